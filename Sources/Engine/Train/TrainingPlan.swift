/// Which samples each optimizer step trains on: the HF Trainer's arithmetic of epochs,
/// micro-batches of `per_device_train_batch_size` and `gradient_accumulation_steps`.
struct TrainingPlan: Sendable {
    let sampleCount: Int
    let batchSize: Int
    let accumulation: Int
    let shuffle: Bool
    let seed: UInt64
    /// Micro-batches per epoch: ⌈samples / batch size⌉.
    let microBatchesPerEpoch: Int
    /// Optimizer steps per epoch: ⌈micro-batches / accumulation⌉ (the last step of an epoch
    /// may sum fewer micro-batches), at least 1.
    let stepsPerEpoch: Int
    let maxSteps: Int

    init(sampleCount: Int, options o: TrainingOptions) throws {
        guard sampleCount > 0 else { throw TrainingError("there is nothing to train on: the training dataset has no samples left after tokenizing") }
        guard o.perDeviceTrainBatchSize > 0, o.gradientAccumulationSteps > 0 else {
            throw TrainingError("per_device_train_batch_size and gradient_accumulation_steps must be at least 1")
        }
        self.sampleCount = sampleCount
        batchSize = o.perDeviceTrainBatchSize
        accumulation = o.gradientAccumulationSteps
        shuffle = o.shuffle
        seed = o.seed
        microBatchesPerEpoch = (sampleCount + batchSize - 1) / batchSize
        stepsPerEpoch = max(1, (microBatchesPerEpoch + accumulation - 1) / accumulation)
        var steps = o.maxSteps > 0 ? o.maxSteps : Int((o.numTrainEpochs * Double(stepsPerEpoch)).rounded(.up))
        if let cap = o.maxEpochs { steps = min(steps, cap * stepsPerEpoch) }
        guard steps > 0 else { throw TrainingError("num_train_epochs \(o.numTrainEpochs) gives no training steps") }
        maxSteps = steps
    }

    /// The sample order of an epoch: a permutation seeded by the seed and the epoch, so a
    /// resumed run sees the same order as the uninterrupted one.
    func order(epoch: Int) -> [Int] {
        var indices = Array(0..<sampleCount)
        guard shuffle else { return indices }
        var random = RandomSource(seed: seed &+ 0x5EED &* UInt64(epoch + 1))
        for i in stride(from: sampleCount - 1, to: 0, by: -1) {
            let j = Int(random.next() % UInt64(i + 1))
            indices.swapAt(i, j)
        }
        return indices
    }

    /// The micro-batches (sample indices) of global step `step` (0-based).
    func microBatches(step: Int, order: [Int]) -> [[Int]] {
        let inEpoch = step % stepsPerEpoch
        let first = inEpoch * accumulation
        let last = min(first + accumulation, microBatchesPerEpoch)
        guard first < last else { return [] }
        return (first..<last).map { b in
            Array(order[(b * batchSize)..<min((b + 1) * batchSize, sampleCount)])
        }
    }

    func epoch(ofStep step: Int) -> Int { step / stepsPerEpoch }

    /// HF's fractional epoch after `completedSteps` steps: whole epochs plus the share of this
    /// epoch's micro-batches done.
    func epochProgress(completedSteps: Int) -> Double {
        let whole = completedSteps / stepsPerEpoch, inEpoch = completedSteps % stepsPerEpoch
        let micro = min(inEpoch * accumulation, microBatchesPerEpoch)
        return Double(whole) + Double(micro) / Double(microBatchesPerEpoch)
    }
}
