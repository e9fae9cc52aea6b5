import Foundation
import XCTest
@testable import Engine

final class TokenizerStreamingDecoderTests: XCTestCase {
    /// Feeding CJK / emoji text token by token never yields a broken character, and the pieces
    /// add up to the text.
    func testStreamingNeverEmitsBrokenUTF8() throws {
        let tok = try TokenizerFixtures.smolLM2GGUF()
        let text = "你好，世界！日本語のテキスト 👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 한국어 café e\u{301} مرحبا 🙂🙂🙂"
        let ids = tok.encode(text, addSpecialTokens: false)
        // The byte-level vocabulary splits many of these characters over several tokens.
        XCTAssertTrue(ids.contains { id in String(validatingUTF8: tok.tokenBytes(id).map { CChar(bitPattern: $0) } + [0]) == nil })
        var decoder = StreamingDecoder(tokenizer: tok)
        var out = ""
        for id in ids {
            let piece = decoder.push(id)
            XCTAssertFalse(piece.unicodeScalars.contains("\u{FFFD}"), "broken character emitted after token \(id)")
            out += piece
        }
        out += decoder.flush()
        XCTAssertEqual(out, text)
    }

    func testStreamingOverEveryGoldenCaseEqualsDecode() throws {
        let tok = try TokenizerFixtures.smolLM2GGUF()
        for c in try TokenizerFixtures.cases("smollm2_llamacpp.json") {
            var decoder = StreamingDecoder(tokenizer: tok)
            var out = ""
            for id in c.ids { out += decoder.push(id) }
            out += decoder.flush()
            XCTAssertEqual(out, tok.decode(c.ids), c.name)
        }
    }

    func testUnfinishedCharacterIsHeldThenFlushedAsReplacement() throws {
        let tok = try TokenizerFixtures.smolLM2GGUF()
        // "你" is E4 BD A0: the single-byte tokens for its first two bytes alone.
        let first = try XCTUnwrap(tok.id(of: ByteLevelMapping.encode([0xE4])))
        let second = try XCTUnwrap(tok.id(of: ByteLevelMapping.encode([0xBD])))
        let third = try XCTUnwrap(tok.id(of: ByteLevelMapping.encode([0xA0])))
        var d = StreamingDecoder(tokenizer: tok)
        XCTAssertEqual(d.push(first), "")
        XCTAssertEqual(d.push(second), "")
        XCTAssertEqual(d.push(third), "你")
        XCTAssertEqual(d.push(first), "")
        XCTAssertEqual(d.flush(), "\u{FFFD}")
        XCTAssertEqual(d.flush(), "")
    }
}
