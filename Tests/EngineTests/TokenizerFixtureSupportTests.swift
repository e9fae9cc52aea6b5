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
        let t = try Tokenizer(gguf: try TestGGUFTokenizerReader.read(path: modelPath))
        cachedGGUF = t
        return t
    }
}

/// Reads just the `tokenizer.*` metadata of a GGUF file (version 2/3, little-endian).
enum TestGGUFTokenizerReader {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func read(path: String) throws -> GGUFTokenizerData {
        let file = try MappedFile(path: path)
        var r = Cursor(bytes: file.bytes)
        guard try r.u32() == 0x4655_4747 else { throw Failure(description: "\(path): not a GGUF file") }
        _ = try r.u32()  // version
        _ = try r.u64()  // tensor count
        let kvCount = try r.u64()
        var values: [String: Any] = [:]
        for _ in 0..<kvCount {
            let key = try r.string()
            let type = try r.u32()
            if key.hasPrefix("tokenizer.") {
                values[key] = try r.value(type)
            } else {
                try r.skip(type)
            }
        }
        func int(_ k: String) -> Int? { (values[k] as? UInt64).map(Int.init) }
        return GGUFTokenizerData(
            model: values["tokenizer.ggml.model"] as? String ?? "",
            pre: values["tokenizer.ggml.pre"] as? String,
            tokens: values["tokenizer.ggml.tokens"] as? [String] ?? [],
            tokenTypes: (values["tokenizer.ggml.token_type"] as? [UInt64])?.map(Int.init),
            merges: values["tokenizer.ggml.merges"] as? [String] ?? [],
            bosId: int("tokenizer.ggml.bos_token_id"), eosId: int("tokenizer.ggml.eos_token_id"),
            padId: int("tokenizer.ggml.padding_token_id"), unkId: int("tokenizer.ggml.unknown_token_id"),
            addBOS: values["tokenizer.ggml.add_bos_token"] as? Bool, addEOS: values["tokenizer.ggml.add_eos_token"] as? Bool,
            chatTemplate: values["tokenizer.chat_template"] as? String)
    }

    struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var pos = 0

        mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
            guard n >= 0, pos + n <= bytes.count else { throw Failure(description: "GGUF metadata runs past the end of the file") }
            defer { pos += n }
            return UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + n)])
        }
        mutating func u32() throws -> UInt32 { try take(4).loadUnaligned(as: UInt32.self) }
        mutating func u64() throws -> UInt64 { try take(8).loadUnaligned(as: UInt64.self) }
        mutating func string() throws -> String {
            let n = try u64()
            guard n < UInt64(bytes.count) else { throw Failure(description: "GGUF string length \(n) is too large") }
            return String(decoding: try take(Int(n)), as: UTF8.self)
        }
        static func width(_ type: UInt32) -> Int? {
            switch type {
            case 0, 1, 7: return 1
            case 2, 3: return 2
            case 4, 5, 6: return 4
            case 10, 11, 12: return 8
            default: return nil
            }
        }
        /// Integers come back as UInt64 (sign-extended for signed types), bools as Bool.
        mutating func scalar(_ type: UInt32) throws -> Any {
            switch type {
            case 0: return UInt64(try take(1)[0])
            case 1: return UInt64(bitPattern: Int64(Int8(bitPattern: try take(1)[0])))
            case 2: return UInt64(try take(2).loadUnaligned(as: UInt16.self))
            case 3: return UInt64(bitPattern: Int64(try take(2).loadUnaligned(as: Int16.self)))
            case 4: return UInt64(try u32())
            case 5: return UInt64(bitPattern: Int64(try take(4).loadUnaligned(as: Int32.self)))
            case 6: return Double(try take(4).loadUnaligned(as: Float.self))
            case 7: return try take(1)[0] != 0
            case 8: return try string()
            case 10, 11: return try u64()
            case 12: return try take(8).loadUnaligned(as: Double.self)
            default: throw Failure(description: "GGUF value type \(type) unknown")
            }
        }
        mutating func value(_ type: UInt32) throws -> Any {
            guard type == 9 else { return try scalar(type) }
            let itemType = try u32()
            let n = try u64()
            guard n < UInt64(bytes.count) else { throw Failure(description: "GGUF array length \(n) is too large") }
            if itemType == 8 { return try (0..<n).map { _ in try string() } }
            return try (0..<n).map { _ in try scalar(itemType) }.compactMap { $0 as? UInt64 }
        }
        mutating func skip(_ type: UInt32) throws {
            if type == 8 { _ = try string(); return }
            if type == 9 {
                let itemType = try u32()
                let n = try u64()
                if let w = Self.width(itemType) {
                    let (total, overflow) = Int(n).multipliedReportingOverflow(by: w)
                    guard !overflow else { throw Failure(description: "GGUF array too large") }
                    _ = try take(total)
                } else {
                    for _ in 0..<n { try skip(itemType) }
                }
                return
            }
            guard let w = Self.width(type) else { throw Failure(description: "GGUF value type \(type) unknown") }
            _ = try take(w)
        }
    }
}
