import Foundation

/// Writes `.safetensors` files the way the reference (Rust) implementation does, so a file
/// written here is byte-identical to one `safetensors.numpy.save_file` writes for the same
/// tensors and a single metadata entry:
///
/// - tensors are laid out sorted by dtype, largest dtype first (the reference's alignment
///   order, see `SafetensorsDType`), then by name;
/// - the header is compact JSON: `__metadata__` first (its keys sorted here; the reference
///   uses a hash map, so its order for several keys varies), then each tensor as
///   `{"dtype":..,"shape":[..],"data_offsets":[begin,end]}` in layout order;
/// - the header is padded with spaces to a multiple of 8 bytes, so the data section is
///   8-byte aligned.
///
/// Every file goes through `writeAtomically`.
public enum SafetensorsWriter {
    public struct Tensor {
        public var name: String
        public var dtype: SafetensorsDType
        public var shape: [Int]
        /// Must stay valid until the write returns.
        public var bytes: UnsafeRawBufferPointer

        public init(name: String, dtype: SafetensorsDType, shape: [Int], bytes: UnsafeRawBufferPointer) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// A weight as the engine holds it (F32, F16 or BF16 only; quantized types have no
        /// safetensors dtype).
        public init(_ raw: RawTensor) throws {
            guard let dtype = SafetensorsDType(raw.type) else {
                throw SafetensorsError(path: raw.name, problem: .invalidWrite("type \(raw.type) has no safetensors dtype"))
            }
            self.init(name: raw.name, dtype: dtype, shape: raw.shape, bytes: raw.bytes)
        }
    }

    /// Writes one file.
    public static func write(_ tensors: [Tensor], metadata: [String: String]? = nil, to path: String) throws {
        let ordered = try layoutOrder(tensors, path: path)
        let header = try encodeHeader(ordered, metadata: metadata, path: path)
        try writeAtomically(to: path) { out in
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try out.write($0) }
            try header.withUnsafeBytes { try out.write($0) }
            for t in ordered { try out.write(t.bytes) }
        }
    }

    /// Writes the tensors as HF does for `max_shard_size`: in the order given, a new shard
    /// starts when the next tensor would push the current one past `maxShardSize` bytes, and a
    /// tensor larger than the limit gets a shard of its own. One shard is written as
    /// `<baseName>.safetensors` with no index; several as `<baseName>-00001-of-0000N.safetensors`
    /// plus `<baseName>.safetensors.index.json` (`metadata.total_size`, `weight_map`), written
    /// last so the index never names a shard that is not complete. Weight files of an earlier
    /// save with the same base name that this save does not use are then removed. Returns the
    /// file names written.
    @discardableResult
    public static func writeSharded(_ tensors: [Tensor], metadata: [String: String]? = nil,
                                    directory: String, maxShardSize: Int,
                                    baseName: String = "model") throws -> [String] {
        let indexPath = "\(directory)/\(baseName).safetensors.index.json"
        guard maxShardSize > 0 else {
            throw SafetensorsError(path: indexPath, problem: .invalidWrite("max shard size must be positive"))
        }
        var shards: [[Tensor]] = []
        var current: [Tensor] = []
        var currentSize = 0
        var totalSize = 0
        for t in tensors {
            let size = t.bytes.count
            totalSize += size
            if size > maxShardSize {
                shards.append([t])
                continue
            }
            if currentSize + size > maxShardSize, !current.isEmpty {
                shards.append(current)
                current = []
                currentSize = 0
            }
            current.append(t)
            currentSize += size
        }
        if !current.isEmpty || shards.isEmpty { shards.append(current) }

        if shards.count == 1 {
            let name = "\(baseName).safetensors"
            try write(shards[0], metadata: metadata, to: "\(directory)/\(name)")
            removeStaleWeights(in: directory, baseName: baseName, keeping: [name])
            return [name]
        }
        var names: [String] = []
        var weightMap: [String: String] = [:]
        for (i, shard) in shards.enumerated() {
            let name = "\(baseName)-\(fiveDigits(i + 1))-of-\(fiveDigits(shards.count)).safetensors"
            try write(shard, metadata: metadata, to: "\(directory)/\(name)")
            for t in shard { weightMap[t.name] = name }
            names.append(name)
        }
        var index = "{\n  \"metadata\": {\n    \"total_size\": \(totalSize)\n  },\n  \"weight_map\": {\n"
        let keys = weightMap.keys.sorted()
        for (i, k) in keys.enumerated() {
            index += "    \(asciiJSONString(k)): \(asciiJSONString(weightMap[k]!))"
            index += i + 1 < keys.count ? ",\n" : "\n"
        }
        index += "  }\n}\n"
        try writeAtomically(to: indexPath) { try $0.write(index) }
        names.append("\(baseName).safetensors.index.json")
        removeStaleWeights(in: directory, baseName: baseName, keeping: Set(names))
        return names
    }

    /// After a save, removes weight files of an earlier save into the same directory that the
    /// new one does not use (as transformers does), so a stale index or stale shards can never
    /// be loaded in place of the new weights. Runs only after the new files are complete.
    static func removeStaleWeights(in directory: String, baseName: String, keeping: Set<String>) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where !keeping.contains(entry) {
            if entry == "\(baseName).safetensors" || entry == "\(baseName).safetensors.index.json"
                || isShardName(entry, baseName: baseName) {
                unlink("\(directory)/\(entry)")
            }
        }
    }

    /// `<baseName>-NNNNN-of-NNNNN.safetensors`.
    static func isShardName(_ name: String, baseName: String) -> Bool {
        let prefix = baseName + "-", suffix = ".safetensors"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return false }
        let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
        let parts = middle.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[1] == "of" && parts[0].count == 5 && parts[2].count == 5
            && parts[0].allSatisfy(\.isNumber) && parts[2].allSatisfy(\.isNumber)
    }

    /// Parses a shard size as `save_pretrained(max_shard_size=)` does today (through
    /// huggingface_hub's `parse_size_to_int`): a plain byte count, or a number (decimals allowed)
    /// with a case-insensitive decimal unit KB/MB/GB/TB (10^3…). The binary units
    /// KiB/MiB/GiB/TiB (2^10…) that older transformers accepted are accepted too. (Older
    /// transformers also read a lower-case final "b", as in "5Gb", as bits; the hub does not,
    /// and neither does this.)
    public static func parseShardSize(_ text: String) throws -> Int {
        func bad() -> SafetensorsError {
            SafetensorsError(path: "max_shard_size", problem: .invalidWrite("\"\(text)\" is not a size like 5GB, 500MB or 2GiB"))
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let plain = Int(trimmed), plain > 0 { return plain }
        let units: [(String, Double)] = [
            ("TIB", 1_099_511_627_776), ("GIB", 1_073_741_824), ("MIB", 1_048_576), ("KIB", 1024),
            ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3),
        ]
        let upper = trimmed.uppercased()
        for (unit, scale) in units where upper.hasSuffix(unit) {
            let number = String(trimmed.dropLast(unit.count)).trimmingCharacters(in: .whitespaces)
            guard let value = Double(number), value.isFinite, value > 0 else { throw bad() }
            let bytes = value * scale
            guard let result = Int(exactly: bytes.rounded(.down)), result > 0 else { throw bad() }
            return result
        }
        throw bad()
    }

    static func layoutOrder(_ tensors: [Tensor], path: String) throws -> [Tensor] {
        var seen = Set<String>()
        for t in tensors {
            guard seen.insert(t.name).inserted else {
                throw SafetensorsError(path: path, problem: .invalidWrite("tensor \"\(t.name)\" is given twice"))
            }
            guard t.name != "__metadata__" else {
                throw SafetensorsError(path: path, problem: .invalidWrite("\"__metadata__\" cannot name a tensor"))
            }
            var elements = 1
            for d in t.shape {
                guard d >= 0 else {
                    throw SafetensorsError(path: path, problem: .invalidWrite("tensor \"\(t.name)\" has a negative dimension"))
                }
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw SafetensorsError(path: path, problem: .sizeOverflow(name: t.name)) }
                elements = p
            }
            guard let size = t.dtype.byteCount(elements: elements), size == t.bytes.count else {
                throw SafetensorsError(path: path, problem: .invalidWrite(
                    "tensor \"\(t.name)\" has \(t.bytes.count) bytes, not what shape \(t.shape) of \(t.dtype.rawValue) needs"))
            }
        }
        return tensors.sorted { a, b in a.dtype != b.dtype ? a.dtype > b.dtype : a.name < b.name }
    }

    static func encodeHeader(_ ordered: [Tensor], metadata: [String: String]?, path: String) throws -> [UInt8] {
        var json = "{"
        var first = true
        if let metadata {
            json += "\"__metadata__\":{"
            json += metadata.keys.sorted().map { "\(compactJSONString($0)):\(compactJSONString(metadata[$0]!))" }.joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for t in ordered {
            if !first { json += "," }
            first = false
            let end = offset + t.bytes.count
            json += "\(compactJSONString(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":["
            json += t.shape.map(String.init).joined(separator: ",")
            json += "],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var bytes = Array(json.utf8)
        bytes += [UInt8](repeating: UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8)
        guard UInt64(bytes.count) <= SafetensorsHeader.maxHeaderLength else {
            throw SafetensorsError(path: path, problem: .headerTooLarge(length: UInt64(bytes.count)))
        }
        return bytes
    }

    private static func fiveDigits(_ n: Int) -> String {
        let s = String(n)
        return s.count >= 5 ? s : String(repeating: "0", count: 5 - s.count) + s
    }
}

/// JSON string as serde_json writes it: only `"`, `\` and control characters escaped (the
/// same escaping the template layer's `tojson` uses without `ensure_ascii`).
func compactJSONString(_ s: String) -> String {
    var out = ""
    TemplateJSONWriter.writeString(s, into: &out)
    return out
}

/// JSON string as Python's `json.dumps` writes it by default (non-ASCII as \uXXXX escapes).
func asciiJSONString(_ s: String) -> String {
    var out = ""
    TemplateJSONWriter.writeString(s, ensureASCII: true, into: &out)
    return out
}
