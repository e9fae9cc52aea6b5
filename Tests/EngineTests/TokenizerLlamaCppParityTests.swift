import Foundation
import XCTest
@testable import Engine

/// The tokenizer built from the real SmolLM2 GGUF against llama.cpp's ids on the same file
/// (golden: Tests/Fixtures/tokenizer/smollm2_llamacpp.json, made by Scripts/goldens/tokenizer.py).
final class TokenizerLlamaCppParityTests: XCTestCase {
    func testIdsMatchLlamaCppOnEveryCase() throws {
        let tok = try TokenizerFixtures.smolLM2GGUF()
        let cases = try TokenizerFixtures.cases("smollm2_llamacpp.json")
        XCTAssertGreaterThan(cases.count, 90)
        var mismatches = 0
        for c in cases {
            let ids = tok.encode(c.text, addSpecialTokens: true, parseSpecial: c.parseSpecial)
            if ids != c.ids {
                mismatches += 1
                let first = zip(ids, c.ids).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ids.count, c.ids.count)
                XCTFail("\(c.name) (parseSpecial \(c.parseSpecial)): ids differ from llama.cpp at index \(first) (got \(ids.count) ids, want \(c.ids.count)): \(Array(ids[first..<min(ids.count, first + 8)])) vs \(Array(c.ids[first..<min(c.ids.count, first + 8)]))")
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testMetadataAsLlamaCppReadsIt() throws {
        let tok = try TokenizerFixtures.smolLM2GGUF()
        XCTAssertEqual(tok.vocabularySize, 49152)
        XCTAssertEqual(tok.bosId, 1)
        XCTAssertEqual(tok.eosId, 2)
        XCTAssertFalse(tok.addBOS, "SmolLM2's GGUF says add_bos_token = false")
        XCTAssertEqual(tok.id(of: "<|im_start|>"), 1)
        XCTAssertEqual(tok.id(of: "Ġthe").map { tok.tokenBytes($0) }, Array(" the".utf8))
        XCTAssertTrue(tok.isSpecial(2))
        XCTAssertFalse(tok.isSpecial(tok.id(of: "Ġthe")!))
        XCTAssertTrue(tok.chatTemplate?.contains("<|im_start|>") ?? false)
    }

    func testDecodeRoundTripsEveryCaseExactly() throws {
        let tok = try TokenizerFixtures.smolLM2GGUF()
        for c in try TokenizerFixtures.cases("smollm2_llamacpp.json") {
            let ids = tok.encode(c.text, addSpecialTokens: false, parseSpecial: c.parseSpecial)
            XCTAssertEqual(tok.decodeBytes(ids), Array(c.text.utf8), c.name)
            XCTAssertEqual(tok.decode(ids), c.text, c.name)
        }
    }

    func testSkipSpecialDropsControlTokensOnly() throws {
        let tok = try TokenizerFixtures.smolLM2GGUF()
        let ids = tok.encode("<|im_start|>user\nHi<|im_end|>")
        XCTAssertEqual(ids.first, 1)
        XCTAssertEqual(tok.decode(ids, skipSpecial: true), "user\nHi")
        XCTAssertEqual(tok.decode(ids), "<|im_start|>user\nHi<|im_end|>")
    }

    func testCorpusEncodesFastInRelease() throws {
        let tok = try TokenizerFixtures.smolLM2GGUF()
        let text = try TokenizerFixtures.cases("smollm2_llamacpp.json").map(\.text).joined()
        // A fresh tokenizer has an empty word cache, so this times the full path.
        let fresh = try Tokenizer(gguf: try TestGGUFTokenizerReader.read(path: TokenizerFixtures.modelPath))
        let start = Date()
        let ids = fresh.encode(text)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(ids, tok.encode(text))
        #if !DEBUG
        // The corpus is ~75 KB; llama.cpp does it in a few milliseconds. One second is the budget in the task.
        XCTAssertLessThan(seconds, 1.0, "encoding \(text.utf8.count) bytes took \(seconds) s")
        #endif
    }
}
