import Foundation
import XCTest
@testable import Engine

/// The writer against files the reference library wrote: the same tensors must give the same
/// bytes (which also shows the reference reads what we write), and the sharded layout must
/// match huggingface_hub's split of the same tensors.
final class SafetensorsWriterTests: XCTestCase {
    private var dir = ""

    override func setUp() { dir = HFFixtures.makeTempDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Every tensor of a reference file, in a shuffled order, as writer input.
    private func tensors(of st: SafetensorsFile) throws -> [SafetensorsWriter.Tensor] {
        try st.tensorInfos.reversed().map {
            SafetensorsWriter.Tensor(name: $0.name, dtype: $0.dtype, shape: $0.shape, bytes: try st.rawBytes($0.name))
        }
    }

    private func bytes(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

    func testWriterOutputIsByteIdenticalToTheReferenceLibrary() throws {
        for (file, metadata) in [("mixed.safetensors", ["format": "pt"]), ("f32.safetensors", ["format": "np"]),
                                 ("f16.safetensors", nil), ("bf16.safetensors", nil)] as [(String, [String: String]?)] {
            let reference = try SafetensorsFile(path: HFFixtures.path(file))
            let out = "\(dir)/\(file)"
            try SafetensorsWriter.write(try tensors(of: reference), metadata: metadata, to: out)
            XCTAssertEqual(bytes(out), bytes(HFFixtures.path(file)), file)
            let back = try SafetensorsFile(path: out)
            XCTAssertEqual(back.tensorInfos, reference.tensorInfos, file)
        }
    }

    func testHeaderIsPaddedWithSpacesToEightBytesAndEscapesNames() throws {
        let value: [Float] = [1.5]
        let out = "\(dir)/named.safetensors"
        try value.withUnsafeBytes { raw in
            try SafetensorsWriter.write([.init(name: "a\"b\\c\nd é", dtype: .f32, shape: [1], bytes: raw)],
                                        metadata: ["note": "tab\there"], to: out)
        }
        let data = bytes(out)
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(n % 8, 0)
        let header = String(decoding: data[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix(#"{"__metadata__":{"note":"tab\there"},"a\"b\\c\nd é":{"dtype":"F32""#), header)
        XCTAssertTrue(header.hasSuffix("}" + String(repeating: " ", count: header.count - header.trimmingCharacters(in: .whitespaces).count)))
        let back = try SafetensorsFile(path: out)
        XCTAssertEqual(back.metadata, ["note": "tab\there"])
        XCTAssertEqual(decodeFloats(try back.tensor("a\"b\\c\nd é")), [1.5])
    }

    func testShardedWriteMatchesHuggingFaceHubSplitAndTransformersIndex() throws {
        let sharded = HFFixtures.expected["sharded"] as! [String: Any]
        let reference = try SafetensorsShards(index: HFFixtures.path("sharded/model.safetensors.index.json"))
        // The state-dict order the reference split walked.
        let order = sharded["order"] as! [String]
        var inputs: [SafetensorsWriter.Tensor] = []
        for name in order {
            let info = reference.info(name)!
            let file = reference.files.first { $0.contains(name) }!
            inputs.append(.init(name: name, dtype: info.dtype, shape: info.shape, bytes: try file.rawBytes(name)))
        }
        let written = try SafetensorsWriter.writeSharded(inputs, metadata: ["format": "pt"], directory: dir,
                                                         maxShardSize: sharded["max_shard_size"] as! Int)
        XCTAssertEqual(written.sorted(), ((sharded["files"] as! [String]) + ["model.safetensors.index.json"]).sorted())
        for name in written {
            XCTAssertEqual(bytes("\(dir)/\(name)"), bytes(HFFixtures.path("sharded/\(name)")), name)
        }
    }

    func testOneShardIsWrittenWithoutAnIndex() throws {
        let v: [Float] = [1, 2, 3, 4]
        let written = try v.withUnsafeBytes { raw in
            try SafetensorsWriter.writeSharded([.init(name: "w", dtype: .f32, shape: [4], bytes: raw)],
                                               directory: dir, maxShardSize: 5_000_000_000)
        }
        XCTAssertEqual(written, ["model.safetensors"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["model.safetensors"])
    }

    func testSavingAgainRemovesTheWeightsOfTheEarlierSave() throws {
        let v: [Float] = [1, 2, 3, 4]
        try v.withUnsafeBytes { raw in
            let a = SafetensorsWriter.Tensor(name: "a", dtype: .f32, shape: [4], bytes: raw)
            let b = SafetensorsWriter.Tensor(name: "b", dtype: .f32, shape: [4], bytes: raw)
            let c = SafetensorsWriter.Tensor(name: "c", dtype: .f32, shape: [4], bytes: raw)
            XCTAssertTrue(FileManager.default.createFile(atPath: "\(dir)/tokenizer.json", contents: Data("{}".utf8)))
            try SafetensorsWriter.writeSharded([a, b, c], directory: dir, maxShardSize: 16)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), [
                "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
                "model.safetensors.index.json", "tokenizer.json"])
            try SafetensorsWriter.writeSharded([a, b], directory: dir, maxShardSize: 16)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), [
                "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                "model.safetensors.index.json", "tokenizer.json"])
            try SafetensorsWriter.writeSharded([a, b], directory: dir, maxShardSize: 1000)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["model.safetensors", "tokenizer.json"])
            try SafetensorsWriter.writeSharded([a, c], directory: dir, maxShardSize: 16)
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/model.safetensors"))
            XCTAssertEqual(try SafetensorsShards(index: "\(dir)/model.safetensors.index.json").tensorNames, ["a", "c"])
        }
    }

    func testShardSizeParsingFollowsHuggingFace() throws {
        // Decimal units as huggingface_hub.parse_size_to_int (which save_pretrained uses),
        // binary units as older transformers' convert_file_size_to_int.
        let cases: [(String, Int)] = [
            ("5GB", 5_000_000_000), ("500MB", 500_000_000), ("10KB", 10_000), ("1TB", 1_000_000_000_000),
            ("2GiB", 2_147_483_648), ("500MiB", 524_288_000), ("1KiB", 1024), ("1.5GB", 1_500_000_000),
            ("5gb", 5_000_000_000), (" 5 GB ", 5_000_000_000), ("8Mb", 8_000_000), ("1000", 1000),
        ]
        for (text, bytes) in cases {
            XCTAssertEqual(try SafetensorsWriter.parseShardSize(text), bytes, text)
        }
        for bad in ["", "GB", "5XB", "-1GB", "five GB", "0MB"] {
            XCTAssertThrowsError(try SafetensorsWriter.parseShardSize(bad), bad)
        }
    }

    func testWriterRefusesInconsistentTensors() throws {
        let v: [Float] = [1, 2, 3]
        try v.withUnsafeBytes { raw in
            XCTAssertThrowsError(try SafetensorsWriter.write([.init(name: "w", dtype: .f32, shape: [4], bytes: raw)], to: "\(dir)/x.safetensors"))
            XCTAssertThrowsError(try SafetensorsWriter.write([.init(name: "w", dtype: .f32, shape: [3], bytes: raw),
                                                              .init(name: "w", dtype: .f32, shape: [3], bytes: raw)], to: "\(dir)/x.safetensors"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/x.safetensors"))
    }
}
