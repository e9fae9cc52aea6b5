import XCTest
@testable import Engine

/// A model whose files miss a tensor or carry one of the wrong shape fails with an error that
/// names the tensor, before anything runs.
final class ModelAssemblyTests: XCTestCase {
    func testMissingAndMisshapenTensorsAreNamed() throws {
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/llama"), requireTokenizer: false)
        func build(_ lookup: @escaping (String) -> RawTensor?) -> String {
            do { _ = try LlamaModel(config: dir.config, ropeStyle: .halves, tensor: lookup); return "built" } catch { return "\(error)" }
        }
        XCTAssertEqual(build { name in name == "model.layers.1.mlp.up_proj.weight" ? nil : try? dir.tensor(name) },
                       "missing tensor model.layers.1.mlp.up_proj.weight")
        let wrong = try dir.tensor("model.layers.0.mlp.down_proj.weight")
        XCTAssertEqual(build { name in name == "model.layers.0.mlp.up_proj.weight" ? wrong : try? dir.tensor(name) },
                       "tensor model.layers.0.mlp.up_proj.weight has shape [32, 64], expected [64, 32]")
        XCTAssertEqual(build { try? dir.tensor($0) }, "built")
    }

    func testTokenIdsOutsideTheVocabularyAreRefused() throws {
        let model = try LlamaModel(hfDirectory: HFModelDirectory(path: TestPaths.fixture("tiny/llama"), requireTokenizer: false))
        XCTAssertThrowsError(try model.forward([1, 64], cache: model.makeCache(capacity: 2))) { error in
            XCTAssertEqual("\(error)", "token id 64 is outside the vocabulary (0..<64)")
        }
    }

    func testDirectoryWithoutTokenizerCannotChat() throws {
        XCTAssertThrowsError(try LoadedModel(location: .hfDirectory(TestPaths.fixture("tiny/llama")))) { error in
            XCTAssertTrue("\(error)".contains("tokenizer"), "\(error)")
        }
    }
}
