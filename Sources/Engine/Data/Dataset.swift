import Foundation

/// One training example: the normalised conversation and where it came from.
public struct Conversation: Equatable {
    public var messages: [ChatMessage]
    public var file: String
    /// The file line (JSON lines, CSV, text) or 1-based row number (JSON arrays, built-ins).
    public var line: Int
    /// A message's own `"loss": true|false` (by message index; assistant messages only), which
    /// overrides `loss_scale` for that reply, as in ms-swift.
    public var lossOverrides: [Int: Bool] = [:]

    public init(messages: [ChatMessage], file: String = "", line: Int = 0) {
        self.messages = messages
        self.file = file
        self.line = line
    }

    /// A pretraining row: a single assistant message (after an optional system message).
    public var isPretraining: Bool {
        let turns = messages.first?.role == "system" ? Array(messages.dropFirst()) : messages
        return turns.count == 1 && turns[0].role == "assistant"
    }
}

/// The Data arguments of the reference that decide what a dataset holds.
public struct DatasetOptions {
    /// `columns`: old name → new name, applied before anything else.
    public var columns: [String: String] = [:]
    /// `strict`: a bad row is an error (true) or is dropped and counted (false, the default).
    public var strict = false
    /// `data_seed`.
    public var seed: UInt64 = 42
    /// `dataset_shuffle`.
    public var shuffle = true
    /// `val_dataset_shuffle`.
    public var validationShuffle = false
    /// `streaming`: rows are taken in order (`#N` takes the first N) instead of sampled.
    public var streaming = false
    /// `shuffle_buffer_size` (streaming with `dataset_shuffle`).
    public var shuffleBufferSize = 1000
    /// `split_dataset_ratio`: the part of the training data set aside for validation when no
    /// `val_dataset` is given.
    public var splitRatio = 0.0
    /// `model_name` and `model_author`: [Chinese, English] (or one name for both), for self-cognition.
    public var modelName: [String] = []
    public var modelAuthor: [String] = []
    /// The inverse of `disable_auto_column_mapping`.
    public var autoColumnMapping = true
    /// Lines (and CSV records) longer than this are an error.
    public var maxLineBytes = 1 << 20

    public init() {}
}

/// A loaded dataset: conversations ready to tokenize, with the rows that were left out.
public final class Dataset {
    public let name: String
    public var rows: [Conversation]
    public var droppedRows: [DroppedRow]
    /// From `streaming`: rows were taken in order rather than sampled, and the trainer should be
    /// given `max_steps`, as ms-swift requires. (Local files are small enough here to be read
    /// whole; streaming changes which rows are chosen, not how they are read.)
    public let isStreaming: Bool

    public var count: Int { rows.count }

    /// One line for a log: "12 rows; 2 dropped (1 × the conversation is empty, 1 × …)".
    public var summary: String {
        var s = "\(count) row\(count == 1 ? "" : "s")"
        guard !droppedRows.isEmpty else { return s }
        var tally: [(String, Int)] = []
        for d in droppedRows {
            if let i = tally.firstIndex(where: { $0.0 == d.reason }) { tally[i].1 += 1 } else { tally.append((d.reason, 1)) }
        }
        s += "; \(droppedRows.count) dropped (" + tally.map { "\($0.1) × \($0.0)" }.joined(separator: ", ") + ")"
        return s
    }

    public init(name: String, rows: [Conversation], droppedRows: [DroppedRow], isStreaming: Bool) {
        self.name = name
        self.rows = rows
        self.droppedRows = droppedRows
        self.isStreaming = isStreaming
    }

    /// Loads one `--dataset` entry (sampled by its `#N`, shuffled by `dataset_shuffle`, no split).
    public static func load(_ spec: String, options: DatasetOptions) throws -> Dataset {
        var o = options
        o.splitRatio = 0
        return try load([spec], options: o).train
    }

    /// Loads `dataset` entries (concatenated) and `val_dataset` entries as ms-swift's `sft` does:
    /// the training entries are split by `split_dataset_ratio` when no validation entries are
    /// given; validation entries are loaded whole (`#N` samples them without repetition) and
    /// shuffled only by `val_dataset_shuffle`.
    public static func load(_ specs: [String], validation: [String] = [], options: DatasetOptions) throws -> (train: Dataset, validation: Dataset?) {
        guard options.splitRatio >= 0, options.splitRatio <= 1 else {
            throw DatasetError(file: "split_dataset_ratio", problem: "must be between 0 and 1, not \(options.splitRatio)")
        }
        let ratio = validation.isEmpty ? options.splitRatio : 0
        let (train, splitOff) = try loadGroup(specs, ratio: ratio, shuffle: options.shuffle, options: options)
        if validation.isEmpty {
            return (train, splitOff.rows.isEmpty && ratio == 0 ? nil : splitOff)
        }
        let (_, val) = try loadGroup(validation, ratio: 1, shuffle: options.validationShuffle, options: options)
        return (train, val)
    }

    /// ms-swift's `load_dataset` over several entries with one generator seeded by `data_seed`.
    private static func loadGroup(_ specs: [String], ratio: Double, shuffle: Bool, options: DatasetOptions) throws -> (Dataset, Dataset) {
        var sampler = DatasetSampler(seed: options.seed)
        var train: [Conversation] = [], val: [Conversation] = []
        var dropped: [DroppedRow] = []
        for raw in specs {
            let spec = try DatasetSpec(parsing: raw)
            let (rows, bad) = try conversations(spec, raw: raw, options: options)
            dropped += bad
            let split = try sampler.split(size: rows.count, sampleCount: spec.sampleCount, ratio: ratio, shuffle: shuffle,
                                          streaming: options.streaming, name: raw)
            train += split.train.map { rows[$0] }
            val += split.validation.map { rows[$0] }
        }
        if shuffle {
            var reorder = DatasetSampler(seed: sampler.random.next())
            func shuffled(_ rows: [Conversation]) -> [Conversation] {
                let order = options.streaming ? reorder.bufferShuffled(Array(rows.indices), bufferSize: options.shuffleBufferSize)
                                              : reorder.permutation(rows.count)
                return order.map { rows[$0] }
            }
            train = shuffled(train)
            val = shuffled(val)
        }
        let name = specs.joined(separator: " ")
        return (Dataset(name: name, rows: train, droppedRows: dropped, isStreaming: options.streaming),
                Dataset(name: name, rows: val, droppedRows: [], isStreaming: options.streaming))
    }

    /// Every row of one entry, in file order, with the rows dropped (strict false).
    static func conversations(_ spec: DatasetSpec, raw: String, options: DatasetOptions) throws -> ([Conversation], [DroppedRow]) {
        if SelfCognition.ids.contains(spec.dataset) {
            return (try SelfCognition.conversations(subsets: spec.subsets, modelName: options.modelName,
                                                    modelAuthor: options.modelAuthor, name: spec.dataset), [])
        }
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: spec.dataset, isDirectory: &isDir)
        if let hub = spec.hub, !exists {
            throw DatasetError(file: raw, problem: "there is no dataset hub here (\(hub.rawValue)::); give a local file or folder, or a built-in: \(SelfCognition.ids.sorted().joined(separator: ", "))")
        }
        if !spec.subsets.isEmpty {
            throw DatasetError(file: raw, problem: "subsets (':\(spec.subsets.joined(separator: "/"))') apply only to built-in datasets")
        }
        let reader = DatasetFileReader(maxLineBytes: options.maxLineBytes)
        let normalizer = RowNormalizer(columns: options.columns, autoColumnMapping: options.autoColumnMapping)
        var rows: [Conversation] = []
        var dropped: [DroppedRow] = []
        for var table in try reader.read(path: spec.dataset) {
            let shape = try normalizer.prepare(&table)
            for row in table.rows {
                do {
                    rows.append(try normalizer.conversation(row, shape: shape))
                } catch let e as DatasetError {
                    if options.strict { throw e }
                    dropped.append(DroppedRow(file: e.file, line: e.line ?? row.line, reason: e.problem))
                }
            }
        }
        guard !rows.isEmpty else {
            if let first = dropped.first {
                throw DatasetError(file: raw, problem: "every row was dropped (\(dropped.count)); the first: \(first)")
            }
            throw DatasetError(file: raw, problem: "the dataset has no rows")
        }
        return (rows, dropped)
    }
}
