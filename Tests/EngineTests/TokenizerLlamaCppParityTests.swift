import Foundation
import XCTest
@testable import Engine

/// The tokenizer built from the real SmolLM2 GGUF against llama.cpp's ids on the same file
/// (golden: Tests/Fixtures/tokenizer/smollm2_llamacpp.json, made by Scripts/goldens/tokenizer.py).
final class TokenizerLlamaCppParityTests: XCTestCase {
    func testIdsMatchLlamaCppOnEveryCase() throws {
        try assertMatchesLlamaCpp(try TokenizerFixtures.smolLM2GGUF(), "smollm2_llamacpp.json")
    }

    /// "llama-bpe" from GGUF: Llama 3 splits, ignore_merges, BOS added by default (the fixture
    /// GGUF has no add_bos_token key), against llama.cpp on the same tiny GGUF.
    func testLlama3PreTokenizerGGUFMatchesLlamaCpp() throws {
        let data = try GGUFTokenizerData(gguf: GGUFFile(path: TokenizerFixtures.directory.appendingPathComponent("llama3_style.gguf").path))
        XCTAssertEqual(data.pre, "llama-bpe")
        XCTAssertNil(data.addBOS)
        let tok = try Tokenizer(gguf: data)
        XCTAssertTrue(tok.addBOS)
        XCTAssertEqual(tok.encode("x").first, 0)
        try assertMatchesLlamaCpp(tok, "llama3_style_llamacpp.json")
    }

    /// "qwen2" from GGUF: single-digit splits, no BOS, no NFC (llama.cpp does not normalize).
    func testQwen2PreTokenizerGGUFMatchesLlamaCpp() throws {
        let tok = try Tokenizer(gguf: try GGUFTokenizerData(gguf: GGUFFile(path: TokenizerFixtures.directory.appendingPathComponent("qwen2_style.gguf").path)))
        XCTAssertFalse(tok.addBOS)
        XCTAssertNotEqual(tok.encode("cafe\u{301}"), tok.encode("caf\u{E9}"))
        try assertMatchesLlamaCpp(tok, "qwen2_style_llamacpp.json")
    }

    private func assertMatchesLlamaCpp(_ tok: Tokenizer, _ golden: String, file: StaticString = #filePath, line: UInt = #line) throws {
        // llama.cpp's view of the vocabulary: end-of-generation ids, control ids, add_bos.
        let header = try TokenizerFixtures.header(golden)
        XCTAssertEqual(tok.endOfGenerationIds, header["eog_ids"] as? [Int], "\(golden): end-of-generation ids", file: file, line: line)
        XCTAssertEqual((0..<tok.vocabularySize).filter(tok.isSpecial), header["control_ids"] as? [Int], "\(golden): control ids", file: file, line: line)
        XCTAssertEqual(tok.addBOS, header["add_bos"] as? Bool, "\(golden): add_bos", file: file, line: line)
        let cases = try TokenizerFixtures.cases(golden)
        XCTAssertGreaterThan(cases.count, 80, file: file, line: line)
        var mismatches = 0
        for c in cases {
            let ids = tok.encode(c.text, addSpecialTokens: true, parseSpecial: c.parseSpecial)
            if ids != c.ids {
                mismatches += 1
                let first = zip(ids, c.ids).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ids.count, c.ids.count)
                XCTFail("\(golden) \(c.name) (parseSpecial \(c.parseSpecial)): ids differ from llama.cpp at index \(first) (got \(ids.count) ids, want \(c.ids.count)): \(Array(ids[first..<min(ids.count, first + 8)])) vs \(Array(c.ids[first..<min(c.ids.count, first + 8)]))", file: file, line: line)
            }
            XCTAssertEqual(tok.decodeBytes(tok.encode(c.text, addSpecialTokens: false, parseSpecial: c.parseSpecial)), Array(c.text.utf8),
                           "\(golden) \(c.name): decode is not the exact input", file: file, line: line)
        }
        XCTAssertEqual(mismatches, 0, file: file, line: line)
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
        let data = try GGUFTokenizerData(gguf: GGUFFile(path: TokenizerFixtures.modelPath))
        let buildStart = Date()
        let fresh = try Tokenizer(gguf: data)
        print("tokenizer: built from GGUF metadata in \(String(format: "%.3f", Date().timeIntervalSince(buildStart))) s")
        let start = Date()
        let ids = fresh.encode(text)
        let seconds = Date().timeIntervalSince(start)
        print("tokenizer: encoded \(text.utf8.count) bytes into \(ids.count) ids in \(String(format: "%.4f", seconds)) s (cold word cache)")
        XCTAssertEqual(ids, tok.encode(text))
        #if !DEBUG
        // The corpus is ~75 KB; llama.cpp does it in a few milliseconds. One second is the budget in the task.
        XCTAssertLessThan(seconds, 1.0, "encoding \(text.utf8.count) bytes took \(seconds) s")
        #endif
    }
}
