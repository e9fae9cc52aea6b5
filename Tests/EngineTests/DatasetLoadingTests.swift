import XCTest
@testable import Engine

/// Each row shape ms-swift accepts, read from hand-written fixtures and compared with the
/// conversation ms-swift's preprocessors make of it (rules in swift/dataset/preprocessor/core.py).
final class DatasetLoadingTests: XCTestCase {
    typealias F = DatasetFixtures

    func testMessagesRowsKeepRolesAndTakeTheSystemColumn() throws {
        let d = try F.load("messages.jsonl")
        XCTAssertEqual(F.pairs(d), [
            [["system", "You are terse."], ["user", "2+2?"], ["assistant", "4"]],
            [["system", "Use tools."], ["user", "Weather in Paris?"], ["assistant", "Let me check."],
             ["tool", "{\"temp\": 18}"], ["assistant", "18 °C."]],
            [["user", "Hi"], ["assistant", "Hello!"], ["user", "Bye"], ["assistant", "Goodbye."]],
        ])
        // The blank second line is skipped, and rows remember their lines.
        XCTAssertEqual(d.rows.map(\.line), [1, 3, 4])
        XCTAssertEqual(d.droppedRows, [])
        // "loss": false on the first reply of the third row.
        XCTAssertEqual(d.rows.map(\.lossOverrides), [[:], [:], [1: false]])
    }

    func testLossFlagMustBeABooleanOnAnAssistantMessage() throws {
        func load(_ line: String) throws -> Conversation {
            let row = try DatasetFileReader.objectRow(Array(line.utf8), path: "t.jsonl", line: 1)
            return try RowNormalizer().conversation(row, shape: .messages)
        }
        XCTAssertEqual(try load(#"{"system": "s", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "loss": true}]}"#).lossOverrides, [2: true])
        XCTAssertThrowsError(try load(#"{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "loss": "no"}]}"#)) { e in
            XCTAssertEqual("\(e)", "t.jsonl:1: message 2: 'loss' must be true or false, found a string")
        }
        XCTAssertThrowsError(try load(#"{"messages": [{"role": "user", "content": "q", "loss": true}, {"role": "assistant", "content": "a"}]}"#)) { e in
            XCTAssertEqual("\(e)", "t.jsonl:1: message 1: 'loss' applies only to assistant messages")
        }
    }

    func testShareGPTFromValueRolesAreMapped() throws {
        XCTAssertEqual(F.pairs(try F.load("sharegpt.jsonl")), [
            [["system", "Be kind."], ["user", "Hello"], ["assistant", "Hi there"]],
            [["system", "Row system"], ["user", "Look it up"], ["assistant", "Searching"], ["tool", "found 3"],
             ["assistant", "Three results."]],
        ])
    }

    func testShareGPTHumanAssistantPairs() throws {
        XCTAssertEqual(F.pairs(try F.load("sharegpt_pairs.jsonl")), [
            [["system", "You are a poet."], ["user", "A line about rain?"], ["assistant", "Rain writes on the window."],
             ["user", "Another?"], ["assistant", "Grey ink, soft hands."]],
        ])
    }

    func testAlpacaJoinsInstructionAndInput() throws {
        let d = try F.load("alpaca.json")
        XCTAssertEqual(F.pairs(d), [
            [["user", "Translate to French.\nGood morning"], ["assistant", "Bonjour"]],
            [["user", "Name a prime number."], ["assistant", "7"]],
            [["system", "You count."], ["user", "1, 2, 3, ?"], ["assistant", "4"]],
        ])
        XCTAssertEqual(d.rows.map(\.line), [1, 2, 3])
    }

    func testQueryResponseWithHistoryAndResponseLists() throws {
        XCTAssertEqual(F.pairs(try F.load("query_response.jsonl")), [
            [["system", "Math tutor."], ["user", "2*2?"], ["assistant", "4"], ["user", "And 3*3?"], ["assistant", "9"]],
            [["user", "Colour of the sky?"], ["assistant", "Blue"]],
            [["user", "first"], ["assistant", "one"], ["user", "Say hi"], ["assistant", "hi"]],
        ])
    }

    func testAutomaticAliasesMatchCaseInsensitively() throws {
        XCTAssertEqual(F.pairs(try F.load("aliases.jsonl")), [
            [["system", "Short answers."], ["user", "Capital of Italy?"], ["assistant", "Rome"]],
            [["user", "Largest ocean?"], ["assistant", "Pacific"]],
        ])
    }

    func testTwoAliasesForOneMissingColumnIsAnError() throws {
        XCTAssertThrowsError(try F.load("ambiguous.jsonl")) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("prompt, question"), text)
            XCTAssertTrue(text.contains("--columns"), text)
        }
    }

    func testCapitalizedAlpacaColumnsAreNotAlpaca() throws {
        // ms-swift picks the Alpaca shape by the exact names; Instruction and Input are then two
        // candidates for the query, which is reported instead of silently losing both.
        XCTAssertThrowsError(try F.load("alpaca_capitalized.jsonl")) { e in
            XCTAssertTrue("\(e)".contains("columns input, instruction could each be the query"), "\(e)")
        }
    }

    func testCSVQuotingAndColumnsRemapping() throws {
        var o = F.inOrder
        o.columns = ["text1": "query", "text2": "response"]
        let d = try F.load("columns.csv", o)
        XCTAssertEqual(F.pairs(d), [
            [["user", "Hello, world?"], ["assistant", "Hi, \"friend\"."]],
            [["user", "multi"], ["assistant", "line one\r\nline two"]],
            [["user", ""], ["assistant", "empty query"]],
        ])
        // Records start on lines 2, 3 and 5 (the second spans two lines).
        XCTAssertEqual(d.rows.map(\.line), [2, 3, 5])
    }

    func testCSVWithoutKnownColumnsDropsEveryRow() throws {
        XCTAssertThrowsError(try F.load("columns.csv")) { e in
            XCTAssertTrue("\(e)".contains("every row was dropped (3)"), "\(e)")
        }
    }

    func testCSVErrorsNameTheLine() throws {
        XCTAssertThrowsError(try F.load("unclosed.csv")) { e in
            XCTAssertEqual("\(e)", F.path("unclosed.csv") + ":2: a quoted field is not closed")
        }
        XCTAssertThrowsError(try F.load("wrong_count.csv")) { e in
            XCTAssertEqual("\(e)", F.path("wrong_count.csv") + ":2: the record has 3 fields but the header has 2")
        }
    }

    func testTextAndTextColumnRowsArePretraining() throws {
        let txt = try F.load("pretrain.txt")
        XCTAssertEqual(F.pairs(txt), [[["assistant", "The quick brown fox jumps over the lazy dog."]],
                                      [["assistant", "A second document, one line long."]]])
        XCTAssertEqual(txt.rows.map(\.line), [1, 3])
        XCTAssertTrue(txt.rows.allSatisfy(\.isPretraining))
        let jsonl = try F.load("text_only.jsonl")
        XCTAssertEqual(F.pairs(jsonl), [[["assistant", "Raw pretraining text, no prompt."]]])
    }

    func testAJSONObjectIsOneRow() throws {
        // HF reads {"query": [...], "response": [...]} as one row whose query is a list.
        var o = DatasetFixtures.inOrder
        o.strict = true
        XCTAssertThrowsError(try F.load("columnar.json", o)) { e in
            XCTAssertEqual("\(e)", F.path("columnar.json") + ":1: 'query' must be a string, found an array")
        }
    }

    func testFolderReadsSupportedFilesInSortedOrder() throws {
        let d = try F.load("folder")
        XCTAssertEqual(d.rows.map { $0.messages.last!.content }, ["A", "B", "C"])
        XCTAssertEqual(d.rows.map { ($0.file as NSString).lastPathComponent }, ["a.jsonl", "b.csv", "c.json"])
    }

    func testFolderWithALinkBackUpIsReadOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tune-dataset-loop-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir + "/inner", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "{\"query\": \"q\", \"response\": \"r\"}\n".write(toFile: dir + "/inner/a.jsonl", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/inner/up", withDestinationPath: dir)
        XCTAssertEqual(try Dataset.load(dir, options: F.inOrder).count, 1)
    }

    func testBadJSONLineNamesFileAndLine() throws {
        for strict in [true, false] {
            var o = F.inOrder
            o.strict = strict
            XCTAssertThrowsError(try F.load("bad_json.jsonl", o)) { e in
                let text = "\(e)"
                XCTAssertTrue(text.hasPrefix(F.path("bad_json.jsonl") + ":3: invalid JSON"), text)
            }
        }
        XCTAssertThrowsError(try F.load("not_object.jsonl")) { e in
            XCTAssertEqual("\(e)", F.path("not_object.jsonl") + ":2: expected a JSON object, found an array")
        }
    }

    func testOverlongLineIsAnError() throws {
        var o = F.inOrder
        o.maxLineBytes = 40
        XCTAssertThrowsError(try F.load("messages.jsonl", o)) { e in
            XCTAssertEqual("\(e)", F.path("messages.jsonl") + ":1: the line is longer than 40 bytes")
        }
    }

    func testMissingFileAndHubIds() throws {
        XCTAssertThrowsError(try Dataset.load("/nonexistent/data.jsonl", options: F.inOrder)) { e in
            XCTAssertTrue("\(e)".contains("no such file or folder"), "\(e)")
        }
        XCTAssertThrowsError(try Dataset.load("hf::someone/some-data", options: F.inOrder)) { e in
            XCTAssertTrue("\(e)".contains("there is no dataset hub here"), "\(e)")
        }
        XCTAssertThrowsError(try Dataset.load(F.path("alpaca.json") + ":train", options: F.inOrder)) { e in
            XCTAssertTrue("\(e)".contains("apply only to built-in datasets"), "\(e)")
        }
    }
}
