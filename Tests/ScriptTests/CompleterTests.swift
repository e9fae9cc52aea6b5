import Foundation
import XCTest
@testable import Script

final class CompleterTests: XCTestCase {
    private let harness = Harness(interactive: true)
    private var completer: Completer { Completer(interpreter: harness.interpreter) }

    func testVerbs() {
        XCTAssertEqual(completer.candidates(before: "se"), ["set"])
        XCTAssertEqual(completer.candidates(before: "merge"), ["merge", "merge-lora"])
    }

    func testArgumentNamesWithAndWithoutDashes() {
        XCTAssertEqual(completer.candidates(before: "set lora_ra"), ["lora_rank"])
        XCTAssertEqual(completer.candidates(before: "set --lora_ra"), ["--lora_rank"])
        XCTAssertEqual(completer.candidates(before: "?lora_ra"), ["?lora_rank"])
        XCTAssertEqual(completer.candidates(before: "help lora_alp"), ["lora_alpha"])
        // A command completes only the arguments it takes.
        XCTAssertEqual(completer.candidates(before: "sft --lora_ra"), ["--lora_rank"])
        XCTAssertEqual(completer.candidates(before: "export --lora_ra"), [])
        XCTAssertEqual(completer.candidates(before: "infer --infer_back"), ["--infer_backend"])
    }

    func testChoicesOfTheArgumentBeingTyped() {
        XCTAssertEqual(completer.candidates(before: "sft --train_type f"), ["full", "fourierft"], "choices keep the reference order")
        XCTAssertEqual(completer.candidates(before: "set train_type lo"), ["lora", "longlora"])
        XCTAssertEqual(completer.candidates(before: "set --use_dora t"), ["true"])
    }

    func testSessionObjectNames() {
        harness.run("load model m.gguf as base\nload adapter a as mine\nload adapter b as other")
        XCTAssertEqual(completer.candidates(before: "use adapter "), ["mine", "other"])
        XCTAssertEqual(completer.candidates(before: "use model b"), ["base"])
        XCTAssertEqual(completer.candidates(before: "unload o"), ["other"])
        XCTAssertEqual(completer.candidates(before: "load "), ["adapter", "dataset", "model"])
    }

    func testFilePaths() throws {
        let dir = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true)
        try "".write(toFile: dir + "/train.jsonl", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/test.jsonl", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/.hidden", atomically: true, encoding: .utf8)
        XCTAssertEqual(completer.candidates(before: "load dataset \(dir)/t"), ["\(dir)/test.jsonl", "\(dir)/train.jsonl"])
        XCTAssertEqual(completer.candidates(before: "run \(dir)/r"), ["\(dir)/runs/"])
        XCTAssertEqual(completer.candidates(before: "sft --dataset \(dir)/tr"), ["\(dir)/train.jsonl"])
        XCTAssertEqual(completer.candidates(before: "run \(dir)/").count, 3)
    }
}
