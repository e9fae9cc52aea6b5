import Foundation
import XCTest
@testable import Engine

/// Shared helpers for the tokenizer tests: fixture paths, golden files, and a minimal reader of
/// the SmolLM2 GGUF's tokenizer metadata (test-only; the engine's GGUF reader lives in IO/).
enum TokenizerFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizer")

    static func data(_ relative: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(relative))
    }

    struct Case {
        var name: String
        var text: String
        var ids: [Int]
        var pieces: [String]?
        var parseSpecial: Bool
    }

    /// Cases of a golden file; corpus texts are read from corpus/ (the golden names them).
    static func cases(_ golden: String) throws -> [Case] {
        let obj = try JSONSerialization.jsonObject(with: data(golden)) as! [String: Any]
        return try (obj["cases"] as! [[String: Any]]).map { c in
            let name = c["name"] as! String
            let text: String
            if let t = c["text"] as? String {
                text = t
            } else {
                text = String(decoding: try data(name), as: UTF8.self)
            }
            return Case(name: name, text: text, ids: (c["ids"] as? [Int]) ?? [],
                        pieces: c["pieces"] as? [String], parseSpecial: (c["parseSpecial"] as? Bool) ?? true)
        }
    }

    /// Top-level members of a golden file (e.g. llama.cpp's eog_ids, control_ids, add_bos).
    static func header(_ golden: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: data(golden)) as! [String: Any]
    }

    static var modelPath: String {
        let cache = ProcessInfo.processInfo.environment["MODELSCOPE_CACHE"] ?? (NSHomeDirectory() + "/.cache/modelscope/hub")
        return cache + "/models/HuggingFaceTB/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cachedGGUF: Tokenizer?

    /// The tokenizer built from the real SmolLM2 GGUF (read once per test run).
    static func smolLM2GGUF() throws -> Tokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let t = cachedGGUF { return t }
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw TokenizerError(source: modelPath, problem: "SmolLM2 GGUF missing: the tokenizer parity tests need the real model file here")
        }
        let t = try Tokenizer(gguf: try GGUFTokenizerData(gguf: GGUFFile(path: modelPath)))
        cachedGGUF = t
        return t
    }
}
