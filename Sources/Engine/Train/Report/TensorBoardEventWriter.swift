import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One point of a scalar series, as TensorBoard and ms-swift's plots read it.
public struct ScalarPoint: Equatable, Sendable {
    public var step: Int
    public var value: Float
    public init(step: Int, value: Float) {
        self.step = step
        self.value = value
    }
}

/// Writes a TensorBoard event file as `torch.utils.tensorboard.SummaryWriter` does (the writer
/// transformers' `TensorBoardCallback` uses, in `output_dir/runs` for ms-swift): the file
/// `events.out.tfevents.<unix seconds, 10 digits>.<hostname>.<pid>.<n>` holds TFRecords (length,
/// masked CRC-32C of the length, an `Event` protobuf, masked CRC-32C of it), the first event
/// naming the file version "brain.Event:2".
public final class TensorBoardEventWriter {
    /// The event file's full path.
    public let path: String
    /// Every scalar added, by tag in the order tags first appeared (what `TrainingPlots` draws).
    public private(set) var scalars: [(tag: String, points: [ScalarPoint])] = []
    private let file: AppendOnlyFile
    private var pending: [UInt8] = []

    /// Numbers the files this process opens, as tensorboard's global counter does.
    private static let counterLock = NSLock()
    nonisolated(unsafe) private static var filesOpened = 0

    /// Creates `logDirectory` when missing and a new event file in it; `wallTime` (seconds
    /// since 1970) stamps the file name and the file-version event.
    public init(logDirectory: String, wallTime: Double = Date().timeIntervalSince1970,
                hostname: String = TensorBoardEventWriter.hostname(),
                processID: Int32 = getpid()) throws {
        Self.counterLock.lock()
        let n = Self.filesOpened
        Self.filesOpened += 1
        Self.counterLock.unlock()
        let seconds = wallTime.isFinite ? Int64(wallTime.rounded(.towardZero)) : 0
        let digits = String(seconds)
        let padded = String(repeating: "0", count: max(0, 10 - digits.count)) + digits
        let name = "events.out.tfevents.\(padded).\(hostname).\(processID).\(n)"
        path = (logDirectory as NSString).appendingPathComponent(name)
        file = try AppendOnlyFile(path: path, truncate: true)
        var event = ProtobufEncoder()
        event.double(1, wallTime)
        event.string(3, "brain.Event:2")
        event.message(10) { $0.string(1, "tensorboard.summary.writer.event_file_writer") }
        record(event.bytes)
        try flush()
    }

    /// The machine's name as Python's `socket.gethostname()` gives it.
    public static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(cString: buffer)
    }

    /// A scalar as `SummaryWriter.add_scalar` records it (the old-style `simple_value`).
    public func addScalar(tag: String, value: Float, step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        event(step: step, wallTime: wallTime) { summary in
            summary.message(1) { v in
                v.string(1, tag)
                v.float(2, value)
            }
        }
        if let i = scalars.firstIndex(where: { $0.tag == tag }) {
            scalars[i].points.append(ScalarPoint(step: step, value: value))
        } else {
            scalars.append((tag, [ScalarPoint(step: step, value: value)]))
        }
    }

    /// Text as `SummaryWriter.add_text` records it: tag `<tag>/text_summary`, a one-element
    /// string tensor, and the "text" plugin's metadata.
    public func addText(tag: String, text: String, step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        event(step: step, wallTime: wallTime) { summary in
            summary.message(1) { v in
                v.string(1, tag + "/text_summary")
                v.message(8) { tensor in
                    tensor.int(1, 7)   // DT_STRING
                    tensor.message(2) { shape in shape.message(2) { dim in dim.int(1, 1) } }
                    tensor.bytes(8, Array(text.utf8))
                }
                v.message(9) { meta in meta.message(1) { plugin in plugin.string(1, "text") } }
            }
        }
    }

    /// Writes every event added since the last flush to the file.
    public func flush() throws {
        guard !pending.isEmpty else { return }
        try file.append(pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the file.
    public func close() throws {
        try flush()
        file.close()
    }

    private func event(step: Int, wallTime: Double, _ summary: (inout ProtobufEncoder) -> Void) {
        var e = ProtobufEncoder()
        if wallTime != 0 { e.double(1, wallTime) }
        if step != 0 { e.int(2, step) }
        e.message(5, summary)
        record(e.bytes)
    }

    private func record(_ data: [UInt8]) {
        var length: [UInt8] = []
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { length.append(contentsOf: $0) }
        pending += length
        appendLittleEndian(Checksums.maskedCRC32C(length))
        pending += data
        appendLittleEndian(Checksums.maskedCRC32C(data))
    }

    private func appendLittleEndian(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { pending.append(contentsOf: $0) }
    }
}
