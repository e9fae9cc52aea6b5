import Foundation

/// The weights of a model stored as one `model.safetensors` or as shards listed by
/// `model.safetensors.index.json` (`weight_map`: tensor name → shard file). Each shard is
/// opened once.
public final class SafetensorsShards: @unchecked Sendable {
    /// The shard files, in the order first named.
    public let files: [SafetensorsFile]
    private let fileForTensor: [String: Int]
    /// Tensor names in file order, then data order.
    public let tensorNames: [String]
    public let description: String

    /// One unsharded file.
    public init(file path: String) throws {
        let f = try SafetensorsFile(path: path)
        files = [f]
        var map: [String: Int] = [:]
        for n in f.tensorNames { map[n] = 0 }
        fileForTensor = map
        tensorNames = f.tensorNames
        description = path
    }

    /// A sharded set: reads the index, opens every shard it names, and checks that each listed
    /// tensor is in the shard the index says.
    public init(index indexPath: String) throws {
        func bad(_ why: String) -> SafetensorsError { SafetensorsError(path: indexPath, problem: .invalidIndex(why)) }
        guard let data = FileManager.default.contents(atPath: indexPath) else {
            throw FileError(path: indexPath, problem: "cannot read the index file")
        }
        let top: [String: Any]
        do { top = try JSONValues.object(from: data, path: indexPath, what: "the index") }
        catch let e as FileError { throw bad(e.problem) }
        guard let weightMap = top["weight_map"] as? [String: Any] else { throw bad("no \"weight_map\" object") }
        let directory = parentDirectory(of: indexPath)
        var fileIndex: [String: Int] = [:]
        var opened: [SafetensorsFile] = []
        var map: [String: Int] = [:]
        for name in weightMap.keys.sorted() {
            guard let shard = weightMap[name] as? String, !shard.isEmpty else {
                throw bad("the shard for \"\(name)\" is not a file name")
            }
            guard !shard.contains("/"), shard != ".", shard != ".." else {
                throw bad("shard name \"\(shard)\" must be a file in the index's directory")
            }
            let i: Int
            if let known = fileIndex[shard] {
                i = known
            } else {
                let path = directory + "/" + shard
                guard FileManager.default.fileExists(atPath: path) else {
                    throw SafetensorsError(path: indexPath, problem: .missingShard(file: shard, tensor: name))
                }
                opened.append(try SafetensorsFile(path: path))
                i = opened.count - 1
                fileIndex[shard] = i
            }
            guard opened[i].contains(name) else {
                throw SafetensorsError(path: indexPath, problem: .tensorMissingFromShard(name: name, file: shard))
            }
            map[name] = i
        }
        files = opened
        fileForTensor = map
        var names: [String] = []
        for (i, f) in opened.enumerated() {
            names += f.tensorNames.filter { map[$0] == i }
        }
        tensorNames = names
        description = indexPath
    }

    public func contains(_ name: String) -> Bool { fileForTensor[name] != nil }

    public func info(_ name: String) -> SafetensorsTensorInfo? {
        fileForTensor[name].flatMap { files[$0].info(name) }
    }

    public func tensor(_ name: String) throws -> RawTensor {
        guard let i = fileForTensor[name] else {
            throw SafetensorsError(path: description, problem: .tensorNotFound(name))
        }
        return try files[i].tensor(name)
    }

    /// The `__metadata__` of the first file.
    public var metadata: [String: String] { files.first?.metadata ?? [:] }
}
