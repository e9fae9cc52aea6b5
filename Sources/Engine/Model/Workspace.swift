/// Scratch buffers reused across forward passes of one generation stream, grown on demand.
final class Workspace {
    private var buffers: [String: (UnsafeMutablePointer<Float>, Int)] = [:]

    func buffer(_ name: String, capacity: Int) -> UnsafeMutablePointer<Float> {
        if let (p, n) = buffers[name], n >= capacity { return p }
        if let (p, _) = buffers[name] { p.deallocate() }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(capacity, 16))
        buffers[name] = (p, max(capacity, 16))
        return p
    }

    func groupSums(capacity: Int) -> UnsafeMutablePointer<Float> { buffer("sums", capacity: capacity) }
    func dequantized(capacity: Int) -> UnsafeMutablePointer<Float> { buffer("dequant", capacity: capacity) }

    deinit { for (p, _) in buffers.values { p.deallocate() } }
}
