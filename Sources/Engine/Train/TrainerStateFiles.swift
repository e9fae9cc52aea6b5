import Foundation

/// What a checkpoint holds beside the weights so that training can go on exactly:
/// `trainer_state.json` (HF's file: step, log history, best checkpoint), `optimizer.safetensors`
/// (AdamW's moments by parameter name, its step count in the metadata), `scheduler.json` and
/// `rng_state.json`.
struct TrainerState {
    var globalStep: Int
    var epoch: Double
    var maxSteps: Int
    var history: [TrainingRecord]
    var bestMetric: Double?
    var bestCheckpoint: String?
    var bestStep: Int?

    static let fileName = "trainer_state.json"

    func write(to directory: String, options o: TrainingOptions, stepsPerEpoch: Int) throws {
        let object: [String: Any] = [
            "best_global_step": bestStep.map { $0 as Any } ?? NSNull(),
            "best_metric": bestMetric.map { $0 as Any } ?? NSNull(),
            "best_model_checkpoint": bestCheckpoint.map { $0 as Any } ?? NSNull(),
            "epoch": epoch,
            "eval_steps": o.evalSteps,
            "global_step": globalStep,
            "is_hyper_param_search": false,
            "is_local_process_zero": true,
            "is_world_process_zero": true,
            "log_history": history.map(\.historyEntry),
            "logging_steps": o.loggingSteps,
            "max_steps": maxSteps,
            "num_input_tokens_seen": 0,
            "num_train_epochs": Int((Double(maxSteps) / Double(max(stepsPerEpoch, 1))).rounded(.up)),
            "save_steps": o.saveSteps,
            "stateful_callbacks": [String: Any](),
            "total_flos": 0.0,
            "train_batch_size": o.perDeviceTrainBatchSize,
            "trial_name": NSNull(),
            "trial_params": NSNull(),
        ]
        try writeJSON(object, to: directory + "/" + Self.fileName)
    }

    static func read(from directory: String) throws -> TrainerState {
        let path = directory + "/" + fileName
        let object = try readJSONObject(path)
        guard let step = object["global_step"] as? Int, step >= 0 else {
            throw FileError(path: path, problem: "has no valid global_step")
        }
        let maxSteps = object["max_steps"] as? Int ?? step
        let history = (object["log_history"] as? [[String: Any]] ?? []).compactMap { TrainingRecord(historyEntry: $0, maxSteps: maxSteps) }
        return TrainerState(globalStep: step, epoch: object["epoch"] as? Double ?? 0, maxSteps: maxSteps, history: history,
                            bestMetric: object["best_metric"] as? Double, bestCheckpoint: object["best_model_checkpoint"] as? String,
                            bestStep: object["best_global_step"] as? Int)
    }
}

/// AdamW's state in a safetensors file: `exp_avg.<name>` and `exp_avg_sq.<name>` for every
/// trainable parameter (HF names), the step count in the metadata.
enum OptimizerStateFile {
    static let fileName = "optimizer.safetensors"

    static func write(_ optimizer: AdamW, names: [String], to directory: String) throws {
        var tensors: [SafetensorsWriter.Tensor] = []
        for (i, p) in optimizer.parameters.enumerated() {
            let (m, v) = optimizer.moments(of: i)
            let bytes = p.variable.count * 4
            tensors.append(.init(name: "exp_avg." + names[i], dtype: .f32, shape: p.variable.shape,
                                 bytes: UnsafeRawBufferPointer(start: m, count: bytes)))
            tensors.append(.init(name: "exp_avg_sq." + names[i], dtype: .f32, shape: p.variable.shape,
                                 bytes: UnsafeRawBufferPointer(start: v, count: bytes)))
        }
        try SafetensorsWriter.write(tensors, metadata: ["format": "tune-adamw", "step": String(optimizer.stepCount)],
                                    to: directory + "/" + fileName)
    }

    /// Restores moments and step; every parameter must be present with its shape.
    static func read(into optimizer: AdamW, names: [String], from directory: String) throws {
        let path = directory + "/" + fileName
        let file = try SafetensorsFile(path: path)
        guard let stepText = file.metadata["step"], let step = Int(stepText), step >= 0 else {
            throw FileError(path: path, problem: "has no optimizer step count in its metadata")
        }
        for (i, p) in optimizer.parameters.enumerated() {
            let (m, v) = optimizer.moments(of: i)
            for (prefix, target) in [("exp_avg.", m), ("exp_avg_sq.", v)] {
                let name = prefix + names[i]
                guard let info = file.info(name) else {
                    throw FileError(path: path, problem: "has no optimizer state for \(names[i]) (is this checkpoint from another tuner or model?)")
                }
                guard info.shape == p.variable.shape, info.dtype == .f32 else {
                    throw FileError(path: path, problem: "optimizer state \(name) has shape \(info.shape) \(info.dtype), expected \(p.variable.shape) F32")
                }
                let raw = try file.rawBytes(name)
                UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(target), count: raw.count).copyMemory(from: raw)
            }
        }
        optimizer.stepCount = step
    }
}

/// Random generator states (as strings: they are 64-bit) and the schedule position.
struct RandomState {
    var streams: [String: [UInt64]]
    static let fileName = "rng_state.json"

    func write(to directory: String) throws {
        try writeJSON(streams.mapValues { $0.map { String($0) } }, to: directory + "/" + Self.fileName)
    }

    static func read(from directory: String) throws -> RandomState {
        let path = directory + "/" + fileName
        let object = try readJSONObject(path)
        var streams: [String: [UInt64]] = [:]
        for (k, v) in object {
            guard let list = v as? [String] else { throw FileError(path: path, problem: "entry \(k) is not a list of numbers") }
            let values = list.compactMap { UInt64($0) }
            guard values.count == list.count else { throw FileError(path: path, problem: "entry \(k) holds a value that is not a 64-bit number") }
            streams[k] = values
        }
        return RandomState(streams: streams)
    }
}

func writeJSON(_ object: Any, to path: String) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    try writeAtomically(to: path) { try $0.write(data + Data("\n".utf8)) }
}

func readJSONObject(_ path: String) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw FileError(path: path, problem: "is missing or unreadable")
    }
    guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        throw FileError(path: path, problem: "is not a JSON object")
    }
    return object
}
