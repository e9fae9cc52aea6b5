import Foundation
import XCTest
@testable import Engine

/// Bad or unsupported tokenizer data is refused with an error that says what is wrong.
final class TokenizerErrorTests: XCTestCase {
    private func data(model: String = "gpt2", pre: String? = "gpt-2", types: [Int]? = nil, merges: [String] = ["a b"], bos: Int? = nil) -> GGUFTokenizerData {
        GGUFTokenizerData(model: model, pre: pre, tokens: ["a", "b", "ab"], tokenTypes: types, merges: merges, bosId: bos)
    }

    private func assertError(_ d: GGUFTokenizerData, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Tokenizer(gguf: d), file: file, line: line) { e in
            XCTAssertTrue("\(e)".contains(text), "\(e)", file: file, line: line)
        }
    }

    func testUnsupportedOrInconsistentGGUFTokenizerIsRefused() {
        assertError(data(model: "llama"), contains: "tokenizer model 'llama' is not supported")
        assertError(data(pre: "tekken"), contains: "pre-tokenizer 'tekken' is not supported")
        assertError(data(types: [1, 1]), contains: "2 token types for 3 tokens")
        assertError(data(bos: 7), contains: "bos token id 7 is outside the vocabulary of 3")
        assertError(GGUFTokenizerData(model: "gpt2", tokens: [], merges: []), contains: "vocabulary is empty")
    }

    func testTinyGGUFVocabularyMergesAndLeavesUnknownCharactersOut() throws {
        let tok = try Tokenizer(gguf: data())
        XCTAssertEqual(tok.encode("ab"), [2])
        XCTAssertEqual(tok.encode("ba"), [1, 0])
        // 'c' has no token; like llama.cpp its byte is dropped rather than crashing.
        XCTAssertEqual(tok.encode("abc"), [2])
        XCTAssertEqual(tok.tokenBytes(99), [])
        XCTAssertFalse(tok.isSpecial(-1))
    }

    func testTokenizerJSONWithAHugeIdIsRefusedNotAllocated() {
        let json = #"{"model":{"type":"BPE","vocab":{"a":0,"b":9000000},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}}"#
        XCTAssertThrowsError(try Tokenizer(tokenizerJSON: Data(json.utf8), tokenizerConfigJSON: nil)) { e in
            XCTAssertTrue("\(e)".contains("token id 9000000 is far beyond"), "\(e)")
        }
    }

    func testJSONParserRejectsMalformedInputWithItsOffset() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "\"\\x\"", "tru", "{\"a\":1} x", String(repeating: "[", count: 600)] {
            XCTAssertThrowsError(try JSONParser.parse(Array(bad.utf8), source: "t.json"), bad) { e in
                XCTAssertTrue("\(e)".hasPrefix("t.json: invalid JSON at byte"), "\(e)")
            }
        }
        let ok = try? JSONParser.parse(Array(#"{"k":["\ud83d\ude00","\u00e9",-1.5e2,true,null]}"#.utf8), source: "t.json")
        XCTAssertEqual(ok?["k"]?.array?.first?.string, "😀")
        XCTAssertEqual(ok?["k"]?.array?[1].string, "é")
    }
}
