import XCTest
@testable import Engine

/// `lazy_tokenize`: rows are tokenized when their batch is built. On the real default model
/// (LoRA, a few steps of two short samples): the logged losses equal the eager run's bit for
/// bit (same samples, same order, same operations), only the rows the run reaches are
/// tokenized, and a bad row is found when a batch reaches it — the eager run's error under
/// strict true, dropped and counted (also in logging.jsonl's `dropped_rows`) under strict false.
/// Packing needs every length up front, so with lazy_tokenize it is an error, as in ms-swift.
final class TrainerLazyTokenizeTests: XCTestCase {
    var output = ""

    override func setUp() { output = NSTemporaryDirectory() + "tune-lazy-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: output) }

    static let file = "mem.jsonl"
    static let maxLength = 64

    /// Six short rows on lines 1–7 of a pretend file, and on line 4 (when `long`) one that is
    /// longer than `maxLength`.
    func dataset(long: Bool, droppedAtLoad: [DroppedRow] = []) -> Dataset {
        var rows = (1...6).map { i in
            Conversation(messages: [ChatMessage(role: "user", content: "Question \(i)?"),
                                    ChatMessage(role: "assistant", content: "Answer \(i).")], file: Self.file, line: i < 4 ? i : i + 1)
        }
        if long {
            rows.insert(Conversation(messages: [ChatMessage(role: "user", content: "Tell a long story."),
                                                ChatMessage(role: "assistant", content: String(repeating: "once upon a time ", count: 40))],
                                     file: Self.file, line: 4), at: 3)
        }
        return Dataset(name: Self.file, rows: rows, droppedRows: droppedAtLoad, isStreaming: false)
    }

    func request(lazy: Bool, strict: Bool = false, steps: Int, shuffle: Bool = true) -> FineTuningRequest {
        var o = TrainingOptions()
        o.perDeviceTrainBatchSize = 2
        o.gradientAccumulationSteps = 1
        o.maxSteps = steps
        o.learningRate = 1e-3
        o.shuffle = shuffle
        o.loggingSteps = 1
        o.saveStrategy = .no
        o.tensorBoard = false
        o.outputDirectory = output + "/run-\(UUID().uuidString)"
        var r = FineTuningRequest(method: .lora(LoRAConfig(rank: 4)), options: o)
        r.maxLength = Self.maxLength
        r.lazyTokenize = lazy
        r.strict = strict
        return r
    }

    func train(_ d: Dataset, _ r: FineTuningRequest, sinks: [TrainingRecordSink] = []) throws -> FineTuningResult {
        try FineTuning.run(model: try SharedModels.smolLM2(), train: d, validation: nil, request: r, sinks: sinks,
                           cancel: CancellationToken()) { _ in }
    }

    func losses(_ r: FineTuningResult) -> [Double] { r.history.filter { $0.kind == .train }.compactMap(\.loss) }

    func testTheShortRowsFitMaxLengthAndTheLongOneDoesNot() throws {
        let m = try SharedModels.smolLM2()
        let lengths = try dataset(long: true).rows.map { try SampleEncoder(model: m).encode($0)!.count }
        XCTAssertEqual(lengths.enumerated().filter { $0.element > Self.maxLength }.map(\.offset), [3], "\(lengths)")
    }

    func testLazyRunLogsTheEagerRunsLosses() throws {
        let eager = try train(dataset(long: false), request(lazy: false, steps: 3))
        let lazy = try train(dataset(long: false), request(lazy: true, steps: 3))
        XCTAssertEqual(losses(eager).count, 3)
        XCTAssertEqual(losses(lazy), losses(eager))
        XCTAssertEqual(eager.tokenizedRows, 6, "eager tokenizes every row before training")
        XCTAssertEqual(lazy.tokenizedRows, 6, "three steps of two samples reach each row once")
    }

    func testLazyTokenizesOnlyTheRowsTheRunReaches() throws {
        let eager = try train(dataset(long: true), request(lazy: false, steps: 1))
        XCTAssertEqual(eager.tokenizedRows, 7)
        let lazy = try train(dataset(long: true), request(lazy: true, steps: 1))
        XCTAssertEqual(lazy.tokenizedRows, 2, "one step of two samples")
        XCTAssertEqual(lazy.globalStep, 1)
    }

    func testStrictRaisesTheEagerErrorWhenABatchReachesTheBadRow() throws {
        var eagerError = ""
        XCTAssertThrowsError(try train(dataset(long: true), request(lazy: false, strict: true, steps: 1, shuffle: false))) {
            eagerError = "\($0)"
        }
        XCTAssertTrue(eagerError.hasPrefix("mem.jsonl:4: the sample is "), eagerError)
        XCTAssertTrue(eagerError.contains("longer than max_length 64 tokens (truncation_strategy delete)"), eagerError)

        // In order, the first step holds rows 0 and 1: the bad row (index 3) is not reached.
        XCTAssertEqual(try train(dataset(long: true), request(lazy: true, strict: true, steps: 1, shuffle: false)).globalStep, 1)
        XCTAssertThrowsError(try train(dataset(long: true), request(lazy: true, strict: true, steps: 2, shuffle: false))) {
            XCTAssertEqual("\($0)", eagerError)
        }
    }

    func testWithoutStrictTheBadRowIsDroppedCountedAndLogged() throws {
        let loadDropped = DroppedRow(file: Self.file, line: 9, reason: "the conversation is empty")
        let d = dataset(long: true, droppedAtLoad: [loadDropped])
        let run = request(lazy: true, steps: 4, shuffle: false)
        let reports = try TrainingReportFiles(options: run.options, runDirectory: run.options.outputDirectory)
        let result = try train(d, run, sinks: [reports])
        XCTAssertEqual(result.globalStep, 4)
        XCTAssertEqual(result.droppedRows.map(\.line), [9, 4])
        XCTAssertEqual(result.deletedRows.map(\.description),
                       ["mem.jsonl:4: longer than max_length 64 tokens (truncation_strategy delete)"])
        // Two epochs of four steps reach the long row twice; it counts once.
        let twice = try train(d, request(lazy: true, steps: 8, shuffle: false))
        XCTAssertEqual(twice.droppedRows.count, 2)

        let text = try String(contentsOfFile: run.options.outputDirectory + "/logging.jsonl", encoding: .utf8)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.split(separator: "\n").last!.utf8)) as? [String: Any])
        XCTAssertEqual(summary["dropped_rows"] as? Int, 2)

        // Eager drops the same rows, all before training.
        let eager = try train(d, request(lazy: false, steps: 1, shuffle: false))
        XCTAssertEqual(eager.droppedRows, result.droppedRows)
    }

    func testPackingWithLazyTokenizeIsAnError() throws {
        var r = request(lazy: true, steps: 1)
        r.packing = true
        XCTAssertThrowsError(try train(dataset(long: false), r)) {
            XCTAssertTrue("\($0)".hasPrefix("packing and lazy_tokenize cannot be used together (as in ms-swift)"), "\($0)")
        }
    }
}
