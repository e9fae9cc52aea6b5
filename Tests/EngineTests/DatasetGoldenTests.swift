import XCTest
@testable import Engine

/// The fixtures loaded by ms-swift 4.6's own `load_dataset` (with `shuffle=False`, so no random
/// generator is involved) and by `tune` give the same conversations, in the same order, with the
/// same train/validation split. Made by Scripts/goldens/datasets.py.
final class DatasetGoldenTests: XCTestCase {
    func testLoadingMatchesMSSwift() throws {
        let golden = try TestPaths.json("datasets/golden/ms_swift_load.json")
        let cases = try XCTUnwrap(golden["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 15)
        for c in cases {
            let names = try XCTUnwrap(c["datasets"] as? [String])
            var o = DatasetOptions()
            o.shuffle = false
            o.columns = c["columns"] as? [String: String] ?? [:]
            o.splitRatio = (c["split_dataset_ratio"] as? Double) ?? 0
            o.streaming = (c["streaming"] as? Bool) ?? false
            let (train, val) = try Dataset.load(names.map { TestPaths.fixture("datasets/" + $0) }, options: o)
            // ms-swift names a tool result `tool_response`; it treats `tool` as the same role,
            // and `tune` writes `tool`, which the chat templates know.
            func expected(_ key: String) -> [[[String]]]? {
                (c[key] as? [[[String]]])?.map { $0.map { [$0[0] == "tool_response" ? "tool" : $0[0], $0[1]] } }
            }
            let label = names.joined(separator: " ") + " \(o.splitRatio) \(o.streaming)"
            XCTAssertEqual(DatasetFixtures.pairs(train), expected("train"), label)
            XCTAssertEqual(val.map(DatasetFixtures.pairs), expected("validation"), label)
        }
    }
}
