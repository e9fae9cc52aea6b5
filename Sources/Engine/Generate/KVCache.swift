/// Keys and values of every layer for the positions processed so far, f32,
/// laid out per layer as `[position, kvHead, headDim]`.
public final class KVCache {
    public let layerCount: Int
    public let rowWidth: Int          // kvHeads × headDim
    public private(set) var capacity: Int
    /// Positions filled.
    public internal(set) var length = 0
    private(set) var keys: [UnsafeMutablePointer<Float>]
    private(set) var values: [UnsafeMutablePointer<Float>]
    let workspace = Workspace()

    public init(config: ModelConfig, capacity: Int) {
        layerCount = config.layerCount
        rowWidth = config.kvHeadCount * config.headDim
        self.capacity = max(1, capacity)
        keys = (0..<layerCount).map { _ in .allocate(capacity: max(1, capacity) * config.kvHeadCount * config.headDim) }
        values = (0..<layerCount).map { _ in .allocate(capacity: max(1, capacity) * config.kvHeadCount * config.headDim) }
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// Makes room for `total` positions, keeping what is stored.
    func reserve(_ total: Int) {
        guard total > capacity else { return }
        let newCapacity = max(total, capacity * 2)
        for l in 0..<layerCount {
            let k = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * rowWidth)
            k.update(from: keys[l], count: length * rowWidth)
            keys[l].deallocate()
            keys[l] = k
            let v = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * rowWidth)
            v.update(from: values[l], count: length * rowWidth)
            values[l].deallocate()
            values[l] = v
        }
        capacity = newCapacity
    }

    /// Forgets positions from `newLength` on.
    public func truncate(to newLength: Int) { length = min(length, max(0, newLength)) }

    /// An independent copy (for beam search).
    public func copy() -> KVCache {
        let c = KVCache(layerCount: layerCount, rowWidth: rowWidth, capacity: capacity)
        for l in 0..<layerCount {
            c.keys[l].update(from: keys[l], count: length * rowWidth)
            c.values[l].update(from: values[l], count: length * rowWidth)
        }
        c.length = length
        return c
    }

    private init(layerCount: Int, rowWidth: Int, capacity: Int) {
        self.layerCount = layerCount
        self.rowWidth = rowWidth
        self.capacity = capacity
        keys = (0..<layerCount).map { _ in .allocate(capacity: capacity * rowWidth) }
        values = (0..<layerCount).map { _ in .allocate(capacity: capacity * rowWidth) }
    }

    /// Copies the contents of `other` (same shape) into this cache.
    public func assign(from other: KVCache) {
        reserve(other.length)
        for l in 0..<layerCount {
            keys[l].update(from: other.keys[l], count: other.length * rowWidth)
            values[l].update(from: other.values[l], count: other.length * rowWidth)
        }
        length = other.length
    }
}
