import Foundation
import XCTest
@testable import Engine

/// Where the tests find fixtures and the real default model.
enum TestPaths {
    static let fixtures: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()   // EngineTests
        url.deleteLastPathComponent()   // Tests
        return url.appendingPathComponent("Fixtures").path
    }()

    static func fixture(_ relative: String) -> String { fixtures + "/" + relative }

    /// The default model's GGUF file, put in the model cache by Scripts/setup.
    static func defaultModel() throws -> String {
        let cache = ProcessInfo.processInfo.environment["MODELSCOPE_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? NSHomeDirectory() + "/.cache/modelscope/hub"
        let path = cache + "/models/HuggingFaceTB/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("the default model is missing at \(path); run Scripts/setup")
            throw CocoaError(.fileNoSuchFile)
        }
        return path
    }

    static func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture(relative)))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
}

/// The real default model, loaded once for all tests that chat with it.
enum SharedModels {
    nonisolated(unsafe) static var loaded: LoadedModel?
    static func smolLM2() throws -> LoadedModel {
        if let m = loaded { return m }
        let m = try LoadedModel(location: .gguf(try TestPaths.defaultModel()))
        loaded = m
        return m
    }
}
