import XCTest
@testable import Engine

/// ms-swift's `path_or_id[:subsets][#N]` syntax, with and without a hub prefix.
final class DatasetSpecTests: XCTestCase {
    func testParsesSubsetsAndSampleCount() throws {
        let none: (String) -> Bool = { _ in false }
        XCTAssertEqual(try DatasetSpec(parsing: "data/a.jsonl#200", fileExists: none),
                       DatasetSpec(dataset: "data/a.jsonl", sampleCount: 200))
        XCTAssertEqual(try DatasetSpec(parsing: " swift/self-cognition:qwen3/empty_think#10 ", fileExists: none),
                       DatasetSpec(dataset: "swift/self-cognition", subsets: ["qwen3", "empty_think"], sampleCount: 10))
        XCTAssertEqual(try DatasetSpec(parsing: "hf::modelscope/self-cognition", fileExists: none),
                       DatasetSpec(dataset: "modelscope/self-cognition", hub: .huggingFace))
        XCTAssertEqual(try DatasetSpec(parsing: "MS::swift/self-cognition#5", fileExists: none).text, "ms::swift/self-cognition#5")
    }

    func testAnExistingPathIsTakenWhole() throws {
        let spec = try DatasetSpec(parsing: "odd#name.jsonl", fileExists: { $0 == "odd#name.jsonl" })
        XCTAssertEqual(spec, DatasetSpec(dataset: "odd#name.jsonl"))
        let sampled = try DatasetSpec(parsing: "odd#name.jsonl#3", fileExists: { $0 == "odd#name.jsonl" })
        XCTAssertEqual(sampled, DatasetSpec(dataset: "odd#name.jsonl", sampleCount: 3))
    }

    func testBadCountsAndPrefixes() {
        let none: (String) -> Bool = { _ in false }
        XCTAssertThrowsError(try DatasetSpec(parsing: "a.jsonl#0", fileExists: none))
        XCTAssertThrowsError(try DatasetSpec(parsing: "a.jsonl#ten", fileExists: none)) { e in
            XCTAssertTrue("\(e)".contains("positive whole number, not 'ten'"), "\(e)")
        }
        XCTAssertThrowsError(try DatasetSpec(parsing: "a.jsonl#10000001", fileExists: none))
        XCTAssertThrowsError(try DatasetSpec(parsing: "xx::a", fileExists: none)) { e in
            XCTAssertTrue("\(e)".contains("unknown hub prefix 'xx::'"), "\(e)")
        }
        XCTAssertThrowsError(try DatasetSpec(parsing: "   ", fileExists: none))
    }
}
