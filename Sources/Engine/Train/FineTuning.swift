import Foundation

/// What `sft` / `pt` asks for beyond the trainer's settings: the tuner, how samples are made,
/// and what the run starts from.
public struct FineTuningRequest {
    public enum Method {
        case lora(LoRAConfig)
        /// Full fine-tuning; the freeze arguments choose what stays frozen.
        case full(FreezeRules)
    }
    public var method: Method
    /// Continue training this adapter (the live one) instead of a fresh one.
    public var continueFrom: LoRAAdapter?
    public var options: TrainingOptions
    /// `pt`: raw text with the generation template, no chat template.
    public var pretraining = false
    public var maxLength: Int?
    public var truncation: TruncationStrategy = .delete
    public var lossScale: LossScale = .default
    public var system: String?
    /// `packing`: samples packed into rows of up to max_length tokens (attention stays inside each).
    public var packing = false
    /// `strict`: a row too long for `delete`, or that cannot be tokenized, is an error (naming
    /// its file and line) instead of being left out and counted.
    public var strict = false
    /// `lazy_tokenize`: rows are tokenized when their batch is built, not all before training.
    public var lazyTokenize = false
    public init(method: Method, options: TrainingOptions) {
        self.method = method
        self.options = options
    }
}

/// How a run went and what it made.
public struct FineTuningResult {
    public var adapter: LoRAAdapter?
    /// Full fine-tuning: the trained model.
    public var model: LlamaModel?
    public var cancelled: Bool
    public var globalStep: Int
    public var maxSteps: Int
    public var trainLoss: Double?
    public var lastEvalLoss: Double?
    public var lastCheckpoint: String?
    public var bestCheckpoint: String?
    public var outputDirectory: String
    public var trainSamples: Int
    public var evalSamples: Int
    /// Rows left out while tokenizing (longer than max_length under delete, or not tokenizable).
    public var deletedRows: [DroppedRow]
    /// Every row left out of the training and validation data: malformed at load time as well
    /// as `deletedRows` (with lazy_tokenize, of the rows the run reached). logging.jsonl's
    /// summary line gives their count as `dropped_rows`.
    public var droppedRows: [DroppedRow]
    /// How many rows were tokenized: all of them before training, or with lazy_tokenize those
    /// the run's batches (and evaluations) used.
    public var tokenizedRows: Int
    public var history: [TrainingRecord]
}

/// `sft` and `pt` over a live model: tokenizes the datasets, builds the training graph (LoRA
/// over the frozen base in its file type, or every weight in f32), runs the trainer, and hands
/// back the adapter or model that results — also when stopped early.
public enum FineTuning {
    public static func run(model loaded: LoadedModel, train: Dataset, validation: Dataset?, request: FineTuningRequest,
                           sinks: [TrainingRecordSink] = [], cancel: CancellationToken,
                           progress: (TrainingProgress) -> Void) throws -> FineTuningResult {
        let encoder = SampleEncoder(model: loaded, maxLength: request.maxLength, truncation: request.truncation,
                                    lossScale: request.lossScale, system: request.system,
                                    useChatTemplate: !request.pretraining)
        let trainSamples: SampleSource, evalSamples: SampleSource
        let empty = Dataset(name: "", rows: [], droppedRows: [], isStreaming: false)
        if request.lazyTokenize {
            // ms-swift refuses these pairs: packing needs every length before training, and a
            // streamed dataset is read as it goes already.
            if request.packing {
                throw TrainingError("packing and lazy_tokenize cannot be used together (as in ms-swift): packing needs every sample's length before training; set lazy_tokenize false")
            }
            if train.isStreaming {
                throw TrainingError("streaming and lazy_tokenize cannot be used together (as in ms-swift); set lazy_tokenize false")
            }
            trainSamples = SampleSource(lazy: train, encoder: encoder, strict: request.strict)
            evalSamples = SampleSource(lazy: validation ?? empty, encoder: encoder, strict: request.strict)
        } else {
            let encodedTrain = try SampleSource.eager(train, encoder: encoder, strict: request.strict)
            let encodedEval = try SampleSource.eager(validation ?? empty, encoder: encoder, strict: request.strict)
            if request.packing {
                guard let max = request.maxLength else { throw TrainingError("packing needs max_length (the length of a packed row)") }
                func packed(_ source: SampleSource) throws -> SampleSource {
                    let packs = SampleSource(tokenized: Batcher.pack(try source.samples(at: Array(0..<source.count)), maxLength: max),
                                             droppedRows: source.droppedRows)
                    packs.tokenizedRows = source.tokenizedRows
                    return packs
                }
                trainSamples = try packed(encodedTrain)
                evalSamples = try packed(encodedEval)
            } else {
                (trainSamples, evalSamples) = (encodedTrain, encodedEval)
            }
            guard !trainSamples.isEmpty else {
                let deleted = trainSamples.droppedRows.count - train.droppedRows.count
                let why = deleted == 0 ? "" : " (all \(deleted) rows were left out while tokenizing; the first: \(trainSamples.droppedRows[train.droppedRows.count]))"
                throw TrainingError("there is nothing to train on: \(train.name) gives no samples\(why)")
            }
        }
        let base = loaded.model
        var options = request.options
        if let resume = options.resumeFrom {
            options.resumeFrom = try resolveCheckpoint(resume, in: options.outputDirectory)
        }
        let style = base.rope.style
        let trainable: TrainableLlama
        switch request.method {
        case .full(let rules):
            let names = try rules.trainableNames(TrainableLlama.parameterList(of: base))
            trainable = TrainableLlama(fullFineTuning: base) { names.contains($0) }
            if let checkpoint = options.resumeFrom {
                try FullWeightsFile.read(into: trainable.namedParameters, config: base.config, style: style, from: checkpoint)
            }
        case .lora(let config):
            if let checkpoint = options.resumeFrom {
                trainable = try TrainableLlama(lora: base, adapter: PEFTAdapterFiles.read(directory: checkpoint, for: base),
                                            seed: options.seed)
            } else if let existing = request.continueFrom {
                trainable = try TrainableLlama(lora: base, adapter: existing, seed: options.seed)
            } else {
                trainable = try TrainableLlama(lora: base, config: config, seed: options.seed)
            }
        }
        if options.neftuneNoiseAlpha > 0 { trainable.neftune = NEFTune(alpha: Float(options.neftuneNoiseAlpha)) }
        if let ratio = options.loraPlusRatio { trainable.lorapLearningRateRatio = Float(ratio) }
        let named = trainable.namedParameters
        let writeWeights: Trainer.WeightsWriter
        switch request.method {
        case .full:
            writeWeights = { dir in try FullWeightsFile.write(named, config: base.config, style: style, to: dir) }
        case .lora:
            writeWeights = { dir in try PEFTAdapterFiles.write(trainable.exportAdapter(), for: base, to: dir) }
        }
        let parameters = trainable.trainableParameters.map { p in
            (name: named.first { $0.variable === p.variable }?.name ?? "parameter", parameter: p)
        }
        let trainer = try Trainer(model: trainable, parameters: parameters, train: trainSamples,
                                  eval: evalSamples, options: options, writeWeights: writeWeights, sinks: sinks)
        if let checkpoint = options.resumeFrom {
            try trainer.resume(from: checkpoint, onlyModel: options.resumeOnlyModel, ignoreDataSkip: options.ignoreDataSkip)
        }
        let outcome = try trainer.run(cancel: cancel, progress: progress)
        let dropped = trainSamples.droppedRows + evalSamples.droppedRows
        var result = FineTuningResult(adapter: nil, model: nil, cancelled: outcome.ending == .cancelled,
                                      globalStep: outcome.globalStep, maxSteps: trainer.plan.maxSteps,
                                      trainLoss: outcome.trainLoss, lastEvalLoss: outcome.lastEvalLoss,
                                      lastCheckpoint: outcome.lastCheckpoint, bestCheckpoint: outcome.bestCheckpoint,
                                      outputDirectory: options.outputDirectory, trainSamples: trainSamples.count,
                                      evalSamples: evalSamples.count,
                                      deletedRows: Array(trainSamples.droppedRows.dropFirst(train.droppedRows.count))
                                          + evalSamples.droppedRows.dropFirst(validation?.droppedRows.count ?? 0),
                                      droppedRows: dropped, tokenizedRows: trainSamples.tokenizedRows + evalSamples.tokenizedRows,
                                      history: outcome.history)
        switch request.method {
        case .full: result.model = trainable.exportModel()
        case .lora: result.adapter = trainable.exportAdapter()
        }
        return result
    }

    /// `resume_from_checkpoint`: a checkpoint directory, or `last` / `best` for the newest / best
    /// checkpoint of the run directory's parent output_dir (the newest run that has one).
    static func resolveCheckpoint(_ given: String, in runDirectory: String) throws -> String {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: given, isDirectory: &isDir), isDir.boolValue { return given }
        if given == "last" || given == "best" {
            let parent = (runDirectory as NSString).deletingLastPathComponent
            let runs = ((try? fm.contentsOfDirectory(atPath: parent)) ?? []).filter { $0.hasPrefix("v") }.sorted {
                RunDirectory.version(of: $0) ?? -1 < RunDirectory.version(of: $1) ?? -1
            }
            for run in runs.reversed() {
                let dir = parent + "/" + run
                let steps = CheckpointDirectory(runDirectory: dir).steps()
                guard let lastStep = steps.last else { continue }
                if given == "best", let state = try? TrainerState.read(from: dir + "/checkpoint-\(lastStep)"),
                   let best = state.bestCheckpoint, fm.fileExists(atPath: best) {
                    return best
                }
                return dir + "/checkpoint-\(lastStep)"
            }
            throw TrainingError("resume_from_checkpoint \(given): no checkpoint was found under \(parent)")
        }
        throw TrainingError("resume_from_checkpoint \(given): there is no such checkpoint directory")
    }
}
