import XCTest
@testable import Script

final class ArgumentValueTests: XCTestCase {
    func testRenderGivesCommandLineText() {
        XCTAssertEqual(ArgumentValue.bool(true).render, "true")
        XCTAssertEqual(ArgumentValue.int(8).render, "8")
        XCTAssertEqual(ArgumentValue.double(1e-4).render, "0.0001")
        XCTAssertEqual(ArgumentValue.double(1e-5).render, "1e-05")
        XCTAssertEqual(ArgumentValue.none.render, "None")
        XCTAssertEqual(ArgumentValue.list(["a.jsonl", "b.jsonl#100"]).render, "a.jsonl b.jsonl#100")
        XCTAssertEqual(ArgumentValue.list(["小黄", "Xiao Huang"]).render, "小黄 'Xiao Huang'")
        XCTAssertEqual(ArgumentValue.string("it's").render, "'it'\\''s'")
        XCTAssertEqual(ArgumentValue.string("").render, "''")
        XCTAssertEqual(ArgumentValue.json(.object(["k": .int(1)])).render, "'{\"k\": 1}'")
    }

    func testRenderedValuesParseBack() throws {
        let registry = ArgumentRegistry.shared
        let cases: [(String, ArgumentValue)] = [
            ("dataset", ["a.jsonl", "b c.jsonl#5"]), ("learning_rate", 1e-5), ("model_kwargs", .json(.object(["k": .double(0.5)]))),
            ("use_dora", true), ("max_length", .none), ("system", "You are 'helpful'."),
        ]
        for (name, value) in cases {
            let spec = try XCTUnwrap(registry.spec(name))
            XCTAssertEqual(try registry.parse(value.words, for: spec), value, name)
        }
    }

    func testJSONForArgsFile() {
        XCTAssertEqual(ArgumentValue.none.json, .null)
        XCTAssertEqual(ArgumentValue.list(["x"]).json, .array([.string("x")]))
        let args: JSONValue = .object([
            "lora_rank": ArgumentValue.int(8).json, "learning_rate": ArgumentValue.double(1e-4).json,
            "dataset": ArgumentValue.list(["d.jsonl"]).json, "max_length": ArgumentValue.none.json,
            "system": ArgumentValue.string("say \"hi\"\n").json,
        ])
        XCTAssertEqual(args.text,
                       #"{"dataset": ["d.jsonl"], "learning_rate": 0.0001, "lora_rank": 8, "max_length": null, "system": "say \"hi\"\n"}"#)
        XCTAssertEqual(JSONValue.object(["a": .array([.int(1)])]).prettyText, "{\n  \"a\": [\n    1\n  ]\n}")
        // args.json values read back as the same arguments.
        XCTAssertEqual(ArgumentValue(json: .array([.string("d.jsonl")])), ["d.jsonl"])
        XCTAssertEqual(ArgumentValue(json: .null), ArgumentValue.none)
    }

    func testJSONReaderRejectsBadInputWithoutCrashing() {
        for text in ["", "{", "{\"a\"", "{\"a\": }", "[1,", "{'a': 'b}", "\"\\u12\"", String(repeating: "[", count: 500),
                     "{a: nan}", "{\"a\": 1} x"] {
            XCTAssertThrowsError(try JSONReader.read(text), text)
        }
        XCTAssertEqual(try JSONReader.read("{\"a\": [1, 2.5, -3e2, \"\\u00e9\", null, true],}"),
                       .object(["a": .array([.int(1), .double(2.5), .double(-300), .string("é"), .null, .bool(true)])]))
    }
}
