import XCTest
@testable import Engine

/// Short forms for the dataset tests: fixtures by name, conversations as (role, content) pairs.
enum DatasetFixtures {
    static func path(_ name: String) -> String { TestPaths.fixture("datasets/" + name) }

    /// Options that keep file order, so rows can be compared one by one.
    static var inOrder: DatasetOptions {
        var o = DatasetOptions()
        o.shuffle = false
        return o
    }

    static func load(_ name: String, _ options: DatasetOptions = inOrder) throws -> Dataset {
        try Dataset.load(path(name), options: options)
    }

    static func pairs(_ c: Conversation) -> [[String]] { c.messages.map { [$0.role, $0.content] } }
    static func pairs(_ d: Dataset) -> [[[String]]] { d.rows.map(pairs) }
}
