/// The samples a run trains or evaluates on, by index: tokenized before the run, or — with
/// `lazy_tokenize` — each row when the batch that holds it is built (as ms-swift's lazy dataset
/// tokenizes in `__getitem__`). It keeps the rows left out: malformed at load time (strict
/// false), longer than max_length under `delete`, or not tokenizable; each row counts once,
/// however many epochs reach it.
public final class SampleSource {
    private enum Storage {
        case tokenized([TokenizedSample])
        case lazy([Conversation], SampleEncoder, strict: Bool)
    }

    private let storage: Storage
    /// Rows left out so far (with `lazy_tokenize`, of the rows reached so far).
    public private(set) var droppedRows: [DroppedRow]
    /// How many rows have been tokenized (all of them up front unless lazy; a lazy row again
    /// in a later epoch counts again).
    public internal(set) var tokenizedRows: Int
    private var droppedIndices = Set<Int>()

    /// Samples already made (and what was left out making them).
    public init(tokenized samples: [TokenizedSample], droppedRows: [DroppedRow] = []) {
        storage = .tokenized(samples)
        self.droppedRows = droppedRows
        tokenizedRows = samples.count
    }

    /// Every row of `dataset` tokenized now.
    public static func eager(_ dataset: Dataset, encoder: SampleEncoder, strict: Bool) throws -> SampleSource {
        let encoded = try dataset.encodeAll(encoder, strict: strict)
        let source = SampleSource(tokenized: encoded.samples, droppedRows: dataset.droppedRows + encoded.deletedRows)
        source.tokenizedRows = dataset.count
        return source
    }

    /// The rows of `dataset`, tokenized when asked for.
    public init(lazy dataset: Dataset, encoder: SampleEncoder, strict: Bool) {
        storage = .lazy(dataset.rows, encoder, strict: strict)
        droppedRows = dataset.droppedRows
        tokenizedRows = 0
    }

    public var count: Int {
        switch storage {
        case .tokenized(let s): return s.count
        case .lazy(let rows, _, _): return rows.count
        }
    }

    public var isEmpty: Bool { count == 0 }

    public var isLazy: Bool {
        if case .lazy = storage { return true }
        return false
    }

    /// The samples at `indices`, in order, without the rows that are left out. With strict
    /// true a bad row is an error naming its file and line, raised when a batch reaches it.
    public func samples(at indices: [Int]) throws -> [TokenizedSample] {
        switch storage {
        case .tokenized(let s):
            return indices.map { s[$0] }
        case .lazy(let rows, let encoder, let strict):
            var out: [TokenizedSample] = []
            out.reserveCapacity(indices.count)
            for i in indices {
                tokenizedRows += 1
                switch try encoder.encode(rows[i], strict: strict) {
                case .sample(let s): out.append(s)
                case .dropped(let d):
                    if droppedIndices.insert(i).inserted { droppedRows.append(d) }
                }
            }
            return out
        }
    }
}
