import Foundation
import XCTest
@testable import Engine

/// TensorBoard event files against the bytes torch's SummaryWriter wrote for the same calls
/// (Scripts/goldens/tensorboard_events.py).
final class TrainingReportTensorBoardTests: XCTestCase {
    private func temporaryDirectory() -> String {
        let dir = NSTemporaryDirectory() + "tune-tb-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testChecksumsMatchTheStandardTestVectors() {
        let digits = Array("123456789".utf8)
        XCTAssertEqual(Checksums.crc32c(digits), 0xE306_9283)
        XCTAssertEqual(Checksums.crc32c([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(Checksums.crc32c([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(Checksums.crc32c((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(Checksums.crc32(digits), 0xCBF4_3926)
        XCTAssertEqual(Checksums.crc32(Array("6789".utf8), continuing: Checksums.crc32(Array("12345".utf8))), 0xCBF4_3926)
        XCTAssertEqual(Checksums.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        XCTAssertEqual(Checksums.adler32([UInt8](repeating: 0xFF, count: 100_000)), 0x149A_302C)
    }

    func testEventFileEqualsTorchSummaryWriterBytes() throws {
        let json = try TestPaths.json("reports/tensorboard_calls.json")
        let dir = temporaryDirectory() + "/out/runs"
        let writer = try TensorBoardEventWriter(logDirectory: dir, wallTime: json["file_wall_time"] as! Double,
                                                hostname: "host", processID: 4242)
        for call in json["calls"] as! [[String: Any]] {
            let tag = call["tag"] as! String, step = call["step"] as! Int
            let wall = (call["wall_time"] as! NSNumber).doubleValue
            if call["kind"] as! String == "scalar" {
                writer.addScalar(tag: tag, value: Float((call["value"] as! NSNumber).doubleValue), step: step, wallTime: wall)
            } else {
                writer.addText(tag: tag, text: call["text"] as! String, step: step, wallTime: wall)
            }
        }
        try writer.close()
        let name = (writer.path as NSString).lastPathComponent
        XCTAssertTrue(name.hasPrefix("events.out.tfevents.1764592245.host.4242."), name)
        XCTAssertEqual((writer.path as NSString).deletingLastPathComponent, dir)
        let ours = try Data(contentsOf: URL(fileURLWithPath: writer.path))
        let golden = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("reports/golden.tfevents")))
        XCTAssertEqual(ours.count, golden.count)
        XCTAssertTrue(ours == golden, "event file bytes differ from torch's SummaryWriter")
        XCTAssertEqual(writer.scalars.first { $0.tag == "train/loss" }?.points,
                       [ScalarPoint(step: 1, value: 2.3456789), ScalarPoint(step: 5, value: 1.5)])
    }

    func testTrainingEntryBecomesTransformersTags() throws {
        let dir = temporaryDirectory()
        let writer = try TensorBoardEventWriter(logDirectory: dir, wallTime: 1_700_000_000)
        var step = TrainingLogEntry(globalStep: 3, maxSteps: 10, elapsedSeconds: 3)
        step.loss = 2; step.gradNorm = 1; step.learningRate = 1e-4; step.tokenAccuracy = 0.5; step.epoch = 0.3
        try writer.add(step, wallTime: 1_700_000_001)
        var eval = TrainingLogEntry(globalStep: 3, maxSteps: 10, elapsedSeconds: 4)
        eval.evalLoss = 1.75; eval.evalRuntime = 0.5; eval.tokenAccuracy = 0.25; eval.epoch = 0.3
        try writer.add(eval, wallTime: 1_700_000_002)
        XCTAssertEqual(writer.scalars.map(\.tag), ["train/loss", "train/grad_norm", "train/learning_rate", "train/token_acc",
                                                   "train/epoch", "eval/loss", "eval/runtime", "eval/token_acc"])
        XCTAssertEqual(TensorBoardEventWriter.tag(forLogKey: "train_runtime"), "train/train_runtime")
        // Flushed by add: the file already holds the file-version event and 5 + 4 scalars.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: writer.path)))
        var offset = 0, records = 0
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | Int($1) }
            XCTAssertEqual(Checksums.maskedCRC32C(bytes[offset..<offset + 8]),
                           bytes[offset + 8..<offset + 12].reversed().reduce(0) { $0 << 8 | UInt32($1) })
            offset += 12 + length + 4
            records += 1
        }
        XCTAssertEqual(offset, bytes.count)
        XCTAssertEqual(records, 10)
    }

    func testReaderGivesBackTheScalarsTorchWrote() throws {
        let json = try TestPaths.json("reports/tensorboard_calls.json")
        var expected: [(tag: String, points: [ScalarPoint])] = []
        for call in json["calls"] as! [[String: Any]] where call["kind"] as! String == "scalar" {
            let tag = call["tag"] as! String
            let p = ScalarPoint(step: call["step"] as! Int, value: Float((call["value"] as! NSNumber).doubleValue))
            if let i = expected.firstIndex(where: { $0.tag == tag }) { expected[i].points.append(p) } else { expected.append((tag, [p])) }
        }
        let path = TestPaths.fixture("reports/golden.tfevents")
        let read = try TensorBoardEventReader.scalars(path: path)
        XCTAssertEqual(read.map(\.tag), expected.map(\.tag))
        XCTAssertEqual(read.map(\.points), expected.map(\.points))

        let dir = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        // A writer that died mid-record: the whole records before it are still read.
        try bytes.prefix(bytes.count - 5).write(to: URL(fileURLWithPath: dir + "/cut.tfevents"))
        let cut = try TensorBoardEventReader.scalars(path: dir + "/cut.tfevents")
        XCTAssertNil(cut.first { $0.tag == "train/step_big" })
        XCTAssertEqual(cut.first { $0.tag == "train/loss" }?.points.count, 2)
        // A flipped byte inside an earlier record is reported, not read as data.
        var damaged = [UInt8](bytes)
        damaged[100] ^= 0x40
        try Data(damaged).write(to: URL(fileURLWithPath: dir + "/bad.tfevents"))
        XCTAssertThrowsError(try TensorBoardEventReader.scalars(path: dir + "/bad.tfevents")) { error in
            XCTAssertTrue("\(error)".hasPrefix(dir + "/bad.tfevents: record 2: the data's checksum is wrong"), "\(error)")
        }
    }

    func testPlotsAreDrawnFromTheEventFileUnderRuns() throws {
        let output = temporaryDirectory()
        let writer = try TensorBoardEventWriter(logDirectory: output + "/runs", wallTime: 1_700_000_000)
        for s in 1...6 {
            var e = TrainingLogEntry(globalStep: s, maxSteps: 6, elapsedSeconds: Double(s))
            e.loss = 3 - Double(s) * 0.4; e.learningRate = 1e-4; e.epoch = Double(s) / 6
            try writer.add(e, wallTime: 1_700_000_000 + Double(s))
        }
        try writer.close()
        let paths = try TrainingPlots.write(fromEventsUnder: output + "/runs", to: output + "/images")
        XCTAssertEqual(paths.map { ($0 as NSString).lastPathComponent },
                       ["train_loss.png", "train_learning_rate.png", "train_epoch.png"])
        XCTAssertEqual(try TrainingPlots.write(fromEventsUnder: output + "/nothing", to: output + "/images2"), [])
    }
}
