import XCTest
@testable import Engine

/// Building template inputs from JSON: order kept, Python's int/float split, bad input refused.
final class TemplateValueTests: XCTestCase {
    func testJSONTextKeepsKeyOrderAndNumberKinds() throws {
        let v = try TemplateValue(jsonText: #"{"z": 1, "a": [true, null, 2.0, -3, 1e2, "\u00e9\ud83e\udd99\n"], "m": {}}"#)
        guard case .dict(let d) = v else { return XCTFail("not a dict") }
        XCTAssertEqual(d.keys, ["z", "a", "m"])
        XCTAssertEqual(d["z"], .int(1))
        XCTAssertEqual(d["a"], .array([.bool(true), .none, .double(2), .int(-3), .double(100), .string("é🦙\n")]))
        XCTAssertEqual(d["m"], .dict(TemplateDict()))
        // tojson writes keys back in the same order, as Python's json.dumps would.
        let out = try ChatTemplate(source: "{{ v | tojson }}").render(["v": v])
        XCTAssertEqual(out, #"{"z": 1, "a": [true, null, 2.0, -3, 100.0, "é🦙\n"], "m": {}}"#)
    }

    func testBadJSONIsRefused() {
        XCTAssertThrowsError(try TemplateValue(jsonText: #"{"a": }"#))
        XCTAssertThrowsError(try TemplateValue(jsonText: #"[1, 2"#))
        XCTAssertThrowsError(try TemplateValue(jsonText: #""unterminated"#))
        XCTAssertThrowsError(try TemplateValue(jsonText: "[1] extra"))
        XCTAssertThrowsError(try TemplateValue(jsonText: String(repeating: "[", count: 300) + String(repeating: "]", count: 300)))
    }

    func testFromFoundationJSON() throws {
        let data = #"{"b": true, "i": 7, "f": 1.5, "n": null, "s": "x", "l": [1]}"#.data(using: .utf8)!
        let object = try JSONSerialization.jsonObject(with: data)
        guard case .dict(let d) = TemplateValue(json: object) else { return XCTFail("not a dict") }
        XCTAssertEqual(d.keys, ["b", "f", "i", "l", "n", "s"])   // Swift dictionaries have no order: sorted
        XCTAssertEqual(d["b"], .bool(true))
        XCTAssertEqual(d["i"], .int(7))
        XCTAssertEqual(d["f"], .double(1.5))
        XCTAssertEqual(d["n"], TemplateValue.none)
        XCTAssertEqual(d["l"], .array([.int(1)]))
    }

    func testFromSwiftValues() throws {
        let v = TemplateValue(json: ["role": "user", "content": "hi", "n": 2, "ok": false] as [String: Any])
        let out = try ChatTemplate(source: "{{ m.role }}|{{ m.content }}|{{ m.n + 1 }}|{{ m.ok }}|{{ m.missing is defined }}").render(["m": v])
        XCTAssertEqual(out, "user|hi|3|False|False")
        let ordered = TemplateValue(json: [("b", 1), ("a", 2)] as [(String, Any)])
        XCTAssertEqual(try ChatTemplate(source: "{{ d | tojson }}").render(["d": ordered]), #"{"b": 1, "a": 2}"#)
    }
}
