import XCTest
@testable import Engine

/// The trainer's loop against the HF Trainer itself (Tests/Fixtures/trainer/hf_trainer_runs.json,
/// Scripts/goldens/trainer_loop.py): full fine-tuning of the tiny Llama on seven masked samples
/// in dataset order, and every learning-rate schedule's factors.
final class TrainerLoopTests: XCTestCase {
    func golden() throws -> [String: Any] { try TestPaths.json("trainer/hf_trainer_runs.json") }

    func samples(_ g: [String: Any]) -> [TokenizedSample] {
        (g["samples"] as! [[String: Any]]).map { s in
            let ids = s["ids"] as! [Int], masked = s["masked"] as! Int
            return TokenizedSample(ids: ids, labels: Array(repeating: -100, count: masked) + ids[masked...])
        }
    }

    func tinyModel() throws -> TrainableLlama {
        let dir = try HFModelDirectory(path: TestPaths.fixture("tiny/llama"), requireTokenizer: false)
        return TrainableLlama(fullFineTuning: try LlamaModel(hfDirectory: dir))
    }

    static func parameters(_ m: TrainableLlama) -> [(name: String, parameter: AdamW.Parameter)] {
        m.namedParameters.map { ($0.name, AdamW.Parameter($0.variable, decays: AdamW.decays(parameterNamed: $0.name))) }
    }

    func options(_ run: [String: Any], output: String) -> TrainingOptions {
        var o = TrainingOptions()
        o.perDeviceTrainBatchSize = run["batch"] as! Int
        o.gradientAccumulationSteps = run["accumulation"] as! Int
        o.numTrainEpochs = Double(run["epochs"] as! Int)
        o.maxSteps = run["max_steps"] as! Int
        o.scheduler = LearningRateSchedule.Kind(rawValue: run["scheduler"] as! String)!
        o.warmupRatio = run["warmup_ratio"] as! Double
        o.learningRate = run["learning_rate"] as! Double
        o.shuffle = false
        o.loggingSteps = 1
        o.saveStrategy = .no
        o.gradientCheckpointing = false
        o.tensorBoard = false
        o.outputDirectory = output
        return o
    }

    func testEveryLoggedStepMatchesTheHFTrainer() throws {
        let g = try golden()
        let data = samples(g)
        for run in g["runs"] as! [[String: Any]] {
            let name = run["name"] as! String
            let model = try tinyModel()
            let trainer = try Trainer(model: model, parameters: Self.parameters(model), train: data, eval: [],
                                      options: options(run, output: NSTemporaryDirectory() + "tune-trainer-\(UUID())"),
                                      writeWeights: { _ in }, sinks: [])
            XCTAssertEqual(trainer.plan.maxSteps, run["total_steps"] as! Int, name)
            let outcome = try trainer.run(cancel: CancellationToken()) { _ in }
            let ours = outcome.history.filter { $0.kind == .train }
            let expected = run["steps"] as! [[String: Any]]
            XCTAssertEqual(ours.map(\.step), expected.map { $0["step"] as! Int }, name)
            for (r, e) in zip(ours, expected) {
                // f32 on both sides; the loss after a few AdamW steps agrees to ~1e-5 relative.
                XCTAssertEqual(r.loss!, e["loss"] as! Double, accuracy: 2e-4 * (e["loss"] as! Double), "\(name) step \(r.step) loss")
                XCTAssertEqual(r.gradNorm!, e["grad_norm"] as! Double, accuracy: 1e-3 * (e["grad_norm"] as! Double), "\(name) step \(r.step) grad_norm")
                XCTAssertEqual(r.learningRate!, e["learning_rate"] as! Double, accuracy: 1e-12, "\(name) step \(r.step) lr")
                XCTAssertEqual(r.epoch, e["epoch"] as! Double, accuracy: 1e-9, "\(name) step \(r.step) epoch")
            }
        }
    }

    func testScheduleFactorsMatchTransformers() throws {
        let g = try golden()
        for (kind, entry) in g["schedules"] as! [String: [String: Any]] {
            let parameters = (entry["kwargs"] as! [String: Any]).mapValues { ($0 as! NSNumber).doubleValue }
            let s = try LearningRateSchedule(kind: LearningRateSchedule.Kind(rawValue: kind)!, baseLearningRate: 1,
                                             totalSteps: 20, warmupSteps: 4, parameters: parameters)
            for (step, factor) in (entry["factors"] as! [Double]).enumerated() {
                XCTAssertEqual(s.learningRate(afterSteps: step), factor, accuracy: 1e-9, "\(kind) after \(step) steps")
            }
        }
    }
}
