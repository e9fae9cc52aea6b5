import Foundation
import XCTest
@testable import Engine

/// Checkpoints, resume, stopping and divergence of the trainer, on the tiny Llama trained in full.
final class TrainerCheckpointTests: XCTestCase {
    var output = ""

    override func setUp() {
        output = NSTemporaryDirectory() + "tune-ckpt-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: output)
    }

    func samples() throws -> [TokenizedSample] {
        let g: [String: Any] = try TestPaths.json("trainer/hf_trainer_runs.json")
        return (g["samples"] as! [[String: Any]]).map { s in
            let ids = s["ids"] as! [Int], masked = s["masked"] as! Int
            return TokenizedSample(ids: ids, labels: Array(repeating: -100, count: masked) + ids[masked...])
        }
    }

    func model() throws -> (LlamaModel, TrainableLlama) {
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/llama"), requireTokenizer: false)
        let base = try LlamaModel(hfDirectory: dir)
        return (base, TrainableLlama(fullFineTuning: base))
    }

    func options(_ dir: String) -> TrainingOptions {
        var o = TrainingOptions()
        o.perDeviceTrainBatchSize = 2
        o.gradientAccumulationSteps = 2
        o.numTrainEpochs = 3          // 4 micro-batches per epoch → 2 steps per epoch → 6 steps
        o.learningRate = 2e-3
        o.warmupRatio = 0.2
        o.shuffle = true
        o.loggingSteps = 1
        o.saveStrategy = .steps
        o.saveSteps = 2
        o.gradientCheckpointing = false
        o.outputDirectory = dir
        return o
    }

    func trainer(_ m: TrainableLlama, _ base: LlamaModel, _ o: TrainingOptions,
                 writer: Trainer.WeightsWriter? = nil, sinks: [TrainingRecordSink] = []) throws -> Trainer {
        let named = m.namedParameters
        return try Trainer(model: m, parameters: TrainerLoopTests.parameters(m), train: try samples(), eval: Array(try samples().prefix(3)),
                           options: o,
                           writeWeights: writer ?? { try FullWeightsFile.write(named, config: base.config, style: base.rope.style, to: $0) },
                           sinks: sinks)
    }

    func losses(_ history: [TrainingRecord]) -> [Int: Double] {
        Dictionary(uniqueKeysWithValues: history.filter { $0.kind == .train }.map { ($0.step, $0.loss!) })
    }

    /// A run stopped at step 3 (Ctrl-C) and resumed from its checkpoint logs the same losses for
    /// steps 4–6 as the run that was never stopped: weights, AdamW moments and step, schedule
    /// position and the shuffled data order all come back.
    func testStoppedAndResumedRunContinuesTheUninterruptedOne() throws {
        let (baseA, a) = try model()
        let whole = try trainer(a, baseA, options(output + "/a")).run(cancel: CancellationToken()) { _ in }
        XCTAssertEqual(whole.globalStep, 6)

        let (baseB, b) = try model()
        let cancel = CancellationToken()
        let first = try trainer(b, baseB, options(output + "/b")).run(cancel: cancel) { p in
            if p.phase == .training && p.step == 3 { cancel.cancel() }
        }
        XCTAssertEqual(first.ending, .cancelled)
        XCTAssertEqual(first.globalStep, 3)
        let checkpoint = output + "/b/checkpoint-3"
        XCTAssertEqual(first.lastCheckpoint, checkpoint, "stopping writes a checkpoint at the step boundary")
        for file in ["model.safetensors", "optimizer.safetensors", "trainer_state.json", "scheduler.json", "rng_state.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint + "/" + file), file)
        }

        let (baseC, c) = try model()
        try FullWeightsFile.read(into: c.namedParameters, config: baseC.config, style: baseC.rope.style, from: checkpoint)
        var o = options(output + "/c")
        o.resumeFrom = checkpoint
        let t = try trainer(c, baseC, o)
        try t.resume(from: checkpoint, onlyModel: false, ignoreDataSkip: false)
        let rest = try t.run(cancel: CancellationToken()) { _ in }
        XCTAssertEqual(rest.globalStep, 6)
        let expected = losses(whole.history), got = losses(rest.history)
        for step in 4...6 {
            // Same operations on the same values in the same order: equal up to f32 rounding of
            // the saved state (it is saved bit for bit), so 1e-6 relative.
            XCTAssertEqual(got[step]!, expected[step]!, accuracy: 1e-6 * expected[step]!, "step \(step)")
        }
        XCTAssertEqual(Set(got.keys).intersection(1...3).count, 3, "the resumed history keeps the first steps' records")
    }

    func testRotationKeepsTheNewestAndTheBestAndLinksThem() throws {
        let (base, m) = try model()
        var o = options(output)
        o.saveSteps = 1
        o.saveTotalLimit = 2
        o.evalStrategy = .steps
        o.evalSteps = 1
        o.createCheckpointSymlink = true
        let reports = try TrainingReportFiles(options: o, runDirectory: output)
        let outcome = try trainer(m, base, o, sinks: [reports]).run(cancel: CancellationToken()) { _ in }
        let dir = CheckpointDirectory(runDirectory: output)
        let best = try XCTUnwrap(outcome.bestCheckpoint)
        let kept = Set(dir.steps().map(dir.path(step:)))
        XCTAssertTrue(kept.contains(best), "the best checkpoint survives rotation")
        XCTAssertTrue(kept.contains(dir.path(step: 6)))
        XCTAssertLessThanOrEqual(kept.count, 2)
        let evals = outcome.history.filter { $0.kind == .eval }
        XCTAssertEqual(evals.count, 6)
        let bestStep = evals.min { $0.loss! < $1.loss! }!.step
        XCTAssertEqual(best, dir.path(step: bestStep))
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: output + "/last"), "checkpoint-6")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: output + "/best"), "checkpoint-\(bestStep)")
        let state = try TrainerState.read(from: dir.path(step: 6))
        XCTAssertEqual(state.globalStep, 6)
        XCTAssertEqual(state.bestCheckpoint, best)
        XCTAssertEqual(state.history.filter { $0.kind == .train }.count, 6)
        // logging.jsonl's last line names them as ms-swift's does.
        let text = try String(contentsOfFile: output + "/logging.jsonl", encoding: .utf8)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.split(separator: "\n").last!.utf8)) as? [String: Any])
        XCTAssertEqual(summary["last_model_checkpoint"] as? String, dir.path(step: 6))
        XCTAssertEqual(summary["best_model_checkpoint"] as? String, best)
        XCTAssertEqual(summary["best_metric"] as? Double, evals.map { $0.loss! }.min())
    }

    /// A checkpoint whose writing fails leaves the previous one whole and no partial directory.
    func testAFailedCheckpointWriteLeavesThePreviousOneIntact() throws {
        let (base, m) = try model()
        let named = m.namedParameters
        var saves = 0
        struct DiskFull: Error {}
        let t = try trainer(m, base, options(output)) { dir in
            saves += 1
            try FullWeightsFile.write(named, config: base.config, style: base.rope.style, to: dir)
            if saves == 2 { throw DiskFull() }
        }
        XCTAssertThrowsError(try t.run(cancel: CancellationToken()) { _ in }) { XCTAssertTrue($0 is DiskFull) }
        let names = try FileManager.default.contentsOfDirectory(atPath: output)
        XCTAssertEqual(names.filter { $0.hasPrefix("checkpoint-") }, ["checkpoint-2"])
        XCTAssertFalse(names.contains { $0.contains("partial") }, "no half-written checkpoint: \(names)")
        let (base2, reloaded) = try model()
        XCTAssertNoThrow(try FullWeightsFile.read(into: reloaded.namedParameters, config: base2.config, style: base2.rope.style,
                                                  from: output + "/checkpoint-2"))
    }

    /// Non-finite loss stops training with a message that names the last good checkpoint, which
    /// stays as it was; no update is made from the bad step.
    func testDivergenceStopsAndKeepsTheLastGoodCheckpoint() throws {
        let (base, m) = try model()
        let t = try trainer(m, base, options(output))
        let poisoned = m.namedParameters.first { $0.name == "model.norm.weight" }!.variable
        XCTAssertThrowsError(try t.run(cancel: CancellationToken()) { p in
            if p.phase == .training && p.step == 3 { poisoned.data[0] = .nan }
        }) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("step 4"), text)
            XCTAssertTrue(text.contains("checkpoint-2"), text)
        }
        XCTAssertEqual(CheckpointDirectory(runDirectory: output).steps(), [2])
        let state = try TrainerState.read(from: output + "/checkpoint-2")
        XCTAssertEqual(state.globalStep, 2)
    }

    func testRunDirectoriesAreVersioned() throws {
        let date = Date(timeIntervalSince1970: 1_764_590_400)  // 2025-12-01 12:00:00 UTC
        let first = try RunDirectory.make(in: output, addVersion: true, now: date)
        let second = try RunDirectory.make(in: output, addVersion: true, now: date)
        XCTAssertTrue(first.hasPrefix(output + "/v0-20251201-"), first)
        XCTAssertTrue(second.hasPrefix(output + "/v1-20251201-"), second)
        XCTAssertEqual(try RunDirectory.make(in: output + "/plain", addVersion: false), output + "/plain")
    }
}
