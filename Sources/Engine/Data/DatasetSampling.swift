/// Sampling, splitting and shuffling as ms-swift does them (`sample_dataset` and
/// `DatasetLoader.post_process` in `swift/dataset`), over row indices.
///
/// ms-swift draws from one NumPy `RandomState(data_seed)` per `load_dataset` call; here one
/// `RandomSource(seed: data_seed)` (xoshiro256**) plays that part, threaded through the datasets
/// in order, so the *rules* match ms-swift exactly but the particular rows chosen do not (NumPy's
/// Mersenne Twister and its permutation cannot be reproduced bit for bit). Given the same seed the
/// result is the same on every machine.
///
/// The algorithm, per dataset of `size` rows with sample count `n` (default `size`):
/// - not streaming, `split_dataset_ratio` 0: `n / size` whole copies of the rows in file order,
///   then `n % size` extra rows: the first `n % size` of a random permutation (or of the file order
///   when `dataset_shuffle` is false). So below the size, `n` distinct rows; above, every row
///   `n / size` times and some once more.
/// - ratio 1: the whole dataset is validation, sampled as above; `n` may not exceed the size.
/// - ratio r in (0, 1): `val = max(Int(min(size, n) * r), 1)` rows go to validation — the first
///   `val` of a random permutation, the rest of it to training (without shuffle: the last `val`
///   rows, the first `size - val` to training, as HF `train_test_split` does) — and training is
///   then sampled to `n - val` rows as above.
/// - streaming: the first `n` rows in order (all rows without `#N`); with a ratio, the first
///   `Int(n * r)` of them are validation. Without `#N` only ratio 0 or 1 is possible.
/// After all datasets are concatenated, with `dataset_shuffle` the whole training set (and the
/// split-off validation set) is shuffled with a seed drawn from the generator — for streaming, with
/// a buffer of `shuffle_buffer_size` rows as HF's `IterableDataset.shuffle` does.
struct DatasetSampler {
    var random: RandomSource

    init(seed: UInt64) { random = RandomSource(seed: seed) }

    /// A uniform integer in 0..<bound by rejection, so no value is favoured.
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        let b = UInt64(bound)
        let limit = UInt64.max - UInt64.max % b
        while true {
            let x = random.next()
            if x < limit { return Int(x % b) }
        }
    }

    /// A random permutation of 0..<count (Fisher–Yates, last position first).
    mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        var i = count - 1
        while i > 0 {
            p.swapAt(i, below(i + 1))
            i -= 1
        }
        return p
    }

    mutating func shuffled(_ items: [Int]) -> [Int] { permutation(items.count).map { items[$0] } }

    /// `sample_dataset`: `n` positions into `indices`.
    mutating func sample(_ indices: [Int], count n: Int, shuffle: Bool) -> [Int] {
        let size = indices.count
        guard size > 0 else { return [] }
        var out: [Int] = []
        out.reserveCapacity(n)
        for _ in 0..<(n / size) { out += indices }
        let extra = n % size
        if extra > 0 {
            let order = shuffle ? permutation(size) : Array(0..<size)
            out += order.prefix(extra).map { indices[$0] }
        }
        return out
    }

    struct Split { var train: [Int]; var validation: [Int] }

    /// `post_process` for one dataset of `size` rows.
    mutating func split(size: Int, sampleCount: Int?, ratio: Double, shuffle: Bool, streaming: Bool, name: String) throws -> Split {
        let all = Array(0..<size)
        if streaming {
            guard let n = sampleCount else {
                if ratio == 0 { return Split(train: all, validation: []) }
                if ratio == 1 { return Split(train: [], validation: all) }
                throw DatasetError(file: name, problem: "a streamed dataset can be split (split_dataset_ratio \(ratio)) only with a sample count: write \(name)#N")
            }
            let taken = Array(all.prefix(n))
            let val = Int(Double(n) * ratio)
            return Split(train: Array(taken.dropFirst(val)), validation: Array(taken.prefix(val)))
        }
        let n = sampleCount ?? size
        if ratio == 0 { return Split(train: sample(all, count: n, shuffle: shuffle), validation: []) }
        if ratio == 1 {
            guard n <= size else {
                throw DatasetError(file: name, problem: "the validation sample count \(n) is larger than the dataset (\(size) rows)")
            }
            return Split(train: [], validation: sample(all, count: n, shuffle: shuffle))
        }
        let val = max(Int(Double(min(size, n)) * ratio), 1)
        let trainCount = n - val
        guard trainCount > 0, val < size else {
            throw DatasetError(file: name, problem: "split_dataset_ratio \(ratio) leaves no training rows out of \(size)")
        }
        let trainPart: [Int], valPart: [Int]
        if shuffle {
            let p = permutation(size)
            valPart = Array(p.prefix(val))
            trainPart = Array(p.dropFirst(val))
        } else {
            trainPart = Array(all.prefix(size - val))
            valPart = Array(all.suffix(val))
        }
        return Split(train: sample(trainPart, count: trainCount, shuffle: shuffle), validation: valPart)
    }

    /// HF's buffered shuffle for streams: fill a buffer, then for each new row emit a random
    /// buffered one and put the new row in its place; at the end emit the buffer shuffled.
    mutating func bufferShuffled(_ items: [Int], bufferSize: Int) -> [Int] {
        let size = max(bufferSize, 1)
        var buffer: [Int] = []
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for x in items {
            if buffer.count < size { buffer.append(x); continue }
            let i = below(size)
            out.append(buffer[i])
            buffer[i] = x
        }
        return out + shuffled(buffer)
    }
}
