import Foundation
import XCTest
@testable import Engine

/// Tokenizers built from tokenizer.json files against HF `tokenizers` on the same files
/// (goldens made by Scripts/goldens/tokenizer.py; see Tests/Fixtures/tokenizer/README.md).
final class TokenizerHFParityTests: XCTestCase {
    private func load(_ dir: String, config: Bool = false) throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: TokenizerFixtures.data(dir + "/tokenizer.json"),
                      tokenizerConfigJSON: config ? TokenizerFixtures.data(dir + "/tokenizer_config.json") : nil)
    }

    /// Ids equal HF's on every case, and decoding gives back the text (NFC-normalized when the
    /// tokenizer.json has an NFC normalizer, as HF's decode does too).
    private func assertIds(_ tok: Tokenizer, _ golden: String, nfc: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let cases = try TokenizerFixtures.cases(golden)
        XCTAssertGreaterThan(cases.count, 80, file: file, line: line)
        var mismatches = 0
        for c in cases {
            let ids = tok.encode(c.text)
            if ids != c.ids {
                mismatches += 1
                let first = zip(ids, c.ids).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ids.count, c.ids.count)
                XCTFail("\(golden) \(c.name): ids differ from HF at index \(first) (got \(ids.count), want \(c.ids.count))", file: file, line: line)
            }
            let expected = nfc ? c.text.precomposedStringWithCanonicalMapping : c.text
            XCTAssertEqual(tok.decodeBytes(tok.encode(c.text, addSpecialTokens: false)), Array(expected.utf8), "\(golden) \(c.name) round trip", file: file, line: line)
        }
        XCTAssertEqual(mismatches, 0, file: file, line: line)
    }

    /// Pieces of the pre-tokenizer (in byte-mapped form, as HF's pre_tokenize_str gives them).
    private func assertPieces(_ tok: Tokenizer, _ golden: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let stages = tok.preTokenizerStages
        let nfc = tok.normalizesNFC
        for c in try TokenizerFixtures.cases(golden) {
            guard let want = c.pieces else { XCTFail("\(golden) has no pieces", file: file, line: line); return }
            let text = nfc ? c.text.precomposedStringWithCanonicalMapping : c.text
            let scanned = ScannedText(Substring(text))
            let utf8 = Array(text.utf8)
            var got: [String] = []
            var start = 0
            for end in PreTokenizer.split(scanned, stages: stages) {
                got.append(ByteLevelMapping.encode(Array(utf8[scanned.utf8Offsets[start]..<scanned.utf8Offsets[end]])))
                start = end
            }
            XCTAssertEqual(got, want, "\(golden) \(c.name): pre-tokenizer pieces differ from HF", file: file, line: line)
        }
    }

    func testSmolLM2TokenizerJSONMatchesHF() throws {
        let tok = try load("smollm2", config: true)
        XCTAssertEqual(tok.vocabularySize, 49152)
        XCTAssertEqual(tok.bosId, 1)
        XCTAssertEqual(tok.eosId, 2)
        XCTAssertFalse(tok.addBOS)
        // Same end-of-generation set as llama.cpp gives for the GGUF this file was made from.
        XCTAssertEqual(tok.endOfGenerationIds, try TokenizerFixtures.header("smollm2_llamacpp.json")["eog_ids"] as? [Int])
        try assertIds(tok, "smollm2_hf.json")
    }

    func testGPT2RegexPiecesMatchHF() throws {
        let tok = try load("smollm2")
        XCTAssertEqual(tok.preTokenizerStages, [.gpt2])
        try assertPieces(tok, "gpt2_pieces_hf.json")
    }

    func testLlama3StyleMatchesHF() throws {
        let tok = try load("llama3_style")
        // TemplateProcessing puts <|begin_of_text|> (id 0) first.
        XCTAssertEqual(tok.encode("hi").first, 0)
        XCTAssertEqual(tok.encode("hi", addSpecialTokens: false).first != 0, true)
        try assertIds(tok, "llama3_style_hf.json")
        XCTAssertEqual(tok.preTokenizerStages, [.llama3(maxDigits: 3)])
        try assertPieces(tok, "llama3_style_hf.json")
    }

    func testQwen2StyleWithStringMergesAndNFCMatchesHF() throws {
        let tok = try load("qwen2_style")
        try assertIds(tok, "qwen2_style_hf.json", nfc: true)
        // Decomposed and precomposed "é" encode alike after NFC.
        XCTAssertEqual(tok.encode("cafe\u{301}"), tok.encode("caf\u{E9}"))
        XCTAssertEqual(tok.preTokenizerStages, [.llama3(maxDigits: 1)])
        XCTAssertTrue(tok.normalizesNFC)
        try assertPieces(tok, "qwen2_style_hf.json")
    }

    func testGGUFAndTokenizerJSONAgreeWhereTheirPreTokenizersDo() throws {
        // The tokenizer.json transformers writes for SmolLM2 lacks the digit split of llama.cpp's
        // "smollm"; on text without digits both must give the same ids.
        let json = try load("smollm2", config: true)
        let gguf = try TokenizerFixtures.smolLM2GGUF()
        let text = "Hello there, <|im_start|>user\nHow's the weather?<|im_end|>\n  \t café 你好 👍🏽"
        XCTAssertEqual(json.encode(text), gguf.encode(text))
    }

    /// ignore_merges with a token no merge forms, overlapping added tokens (leftmost-longest),
    /// lstrip/rstrip, ByteLevel add_prefix_space, and a BOS + EOS template, against HF.
    func testHandMadeTokenizerFeaturesMatchHF() throws {
        let tok = try load("handmade")
        for c in try TokenizerFixtures.cases("handmade_hf.json") {
            XCTAssertEqual(tok.encode(c.text), c.ids, "\(c.name) \(c.text.debugDescription)")
        }
        XCTAssertEqual(tok.bosId, nil)
        XCTAssertTrue(tok.isSpecial(tok.id(of: "yzw")!))
        XCTAssertFalse(tok.isSpecial(tok.id(of: "xy")!))
        // parseSpecial off: the special "yzw" is plain text, the non-special "xy" is still matched.
        let plain = tok.encode("xyzw", addSpecialTokens: false, parseSpecial: false)
        XCTAssertEqual(plain.first, tok.id(of: "xy"))
        XCTAssertFalse(plain.contains(tok.id(of: "yzw")!))
    }

    func testUnsupportedTokenizerJSONIsAClearError() {
        let wordPiece = #"{"model":{"type":"WordPiece","vocab":{"a":0}}}"#
        XCTAssertThrowsError(try Tokenizer(tokenizerJSON: Data(wordPiece.utf8), tokenizerConfigJSON: nil)) { e in
            XCTAssertTrue("\(e)".contains("WordPiece"), "\(e)")
        }
        let badRegex = #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Isolated","invert":false}}"#
        XCTAssertThrowsError(try Tokenizer(tokenizerJSON: Data(badRegex.utf8), tokenizerConfigJSON: nil)) { e in
            XCTAssertTrue("\(e)".contains("Split pattern"), "\(e)")
        }
        XCTAssertThrowsError(try Tokenizer(tokenizerJSON: Data(#"{"model": {"#.utf8), tokenizerConfigJSON: nil)) { e in
            XCTAssertTrue("\(e)".hasPrefix("tokenizer.json: invalid JSON"), "\(e)")
        }
    }
}
