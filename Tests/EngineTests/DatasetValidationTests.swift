import XCTest
@testable import Engine

/// Malformed rows: with `strict` an error naming file, line and problem; without it the row is
/// dropped and counted with its reason.
final class DatasetValidationTests: XCTestCase {
    typealias F = DatasetFixtures

    func testStrictFalseDropsAndCountsBadRows() throws {
        let d = try F.load("bad_rows.jsonl")
        XCTAssertEqual(d.rows.map { $0.messages[0].content }, ["good one", "good two"])
        XCTAssertEqual(d.droppedRows.map(\.line), [2, 3, 4, 5, 6, 7])
        let reasons = d.droppedRows.map(\.reason)
        XCTAssertEqual(reasons[0], "the conversation is empty")
        XCTAssertEqual(reasons[1], "roles out of order at message 2: two 'user' turns in a row")
        XCTAssertEqual(reasons[2], "the conversation starts with 'assistant'; the first turn must be the user's")
        XCTAssertEqual(reasons[3], "the conversation does not end with an assistant reply (missing response)")
        XCTAssertEqual(reasons[4], "message 1: the content must be a string, found a number")
        XCTAssertEqual(reasons[5], "message 1 has an unknown role 'narrator'")
        XCTAssertTrue(d.droppedRows.allSatisfy { $0.file == F.path("bad_rows.jsonl") })
        XCTAssertTrue(d.summary.hasPrefix("2 rows; 6 dropped (1 × the conversation is empty, 1 × roles out of order"), d.summary)
    }

    func testStrictStopsAtTheFirstBadRow() throws {
        var o = F.inOrder
        o.strict = true
        XCTAssertThrowsError(try F.load("bad_rows.jsonl", o)) { e in
            XCTAssertEqual("\(e)", F.path("bad_rows.jsonl") + ":2: the conversation is empty")
        }
    }

    func testConversationRules() {
        func check(_ roles: [String]) -> String? {
            ConversationRules.check(roles.map { ChatMessage(role: $0, content: "x") })
        }
        XCTAssertNil(check(["system", "user", "assistant", "user", "assistant"]))
        XCTAssertNil(check(["user", "assistant", "tool", "assistant"]))
        XCTAssertNil(check(["assistant"]))
        XCTAssertNil(check(["system", "assistant"]))
        XCTAssertEqual(check(["user", "assistant", "assistant"]), "roles out of order at message 3: two 'assistant' turns in a row")
        XCTAssertEqual(check(["user", "system", "assistant"]), "message 2 is a system message; only the first message may be")
        XCTAssertEqual(check(["system"]), "the conversation has only a system message")
        XCTAssertEqual(check(["user", "tool", "assistant"]), "roles out of order at message 2: a 'tool' turn after a 'user' turn")
    }
}
