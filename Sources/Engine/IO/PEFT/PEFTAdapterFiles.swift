#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A LoRA adapter directory as PEFT's `save_pretrained` writes it: `adapter_config.json` and
/// `adapter_model.safetensors` (only safetensors weights are read; `adapter_model.bin` is not).
///
/// Files hold HF's layout. For a model whose q/k rows are permuted for interleaved RoPE (a
/// `llama` GGUF), the rows of q_proj/k_proj lora_B, DoRA magnitudes, biases and saved whole
/// q/k tensors are converted between that layout and HF's on write and read.
public enum PEFTAdapterFiles {
    public static let configFileName = "adapter_config.json"
    public static let weightsFileName = "adapter_model.safetensors"

    /// True when `directory` holds an `adapter_config.json`.
    public static func looksLikeAdapter(directory: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: "\(trimmed(directory))/\(configFileName)", isDirectory: &isDir) && !isDir.boolValue
    }

    /// Writes `adapter_config.json` and `adapter_model.safetensors` (f32, metadata
    /// `{"format": "pt"}`) into `directory`, creating it if needed. Both files are written in
    /// full under temporary names before either replaces a file already there.
    public static func write(_ adapter: LoRAAdapter, for model: LlamaModel, to directory: String) throws {
        let dir = trimmed(directory)
        let layout = PEFTModelLayout(model)
        let weightsPath = "\(dir)/\(weightsFileName)", configPath = "\(dir)/\(configFileName)"
        func fail(_ why: String) -> FileError { FileError(path: weightsPath, problem: "cannot write the adapter: \(why)") }

        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        for name in adapter.modules.keys.sorted() {
            let w = adapter.modules[name]!
            guard let m = layout.modules[name] else {
                throw fail("module \(name) is not a linear layer of this model (\(layout.moduleNamesHint))")
            }
            guard w.inFeatures == m.inFeatures, w.outFeatures == m.outFeatures else {
                throw fail("module \(name) is [\(w.outFeatures), \(w.inFeatures)] in the adapter but [\(m.outFeatures), \(m.inFeatures)] in the model")
            }
            let r = w.rank
            guard r > 0, w.a.count == r * m.inFeatures, w.b.count == m.outFeatures * r else {
                throw fail("module \(name): A has \(w.a.count) values and B \(w.b.count), not rank × \(m.inFeatures) and \(m.outFeatures) × rank")
            }
            guard r == adapter.config.rank else {
                throw fail("module \(name) has rank \(r) but the adapter's config says r = \(adapter.config.rank) (PEFT files hold one rank)")
            }
            func hf(_ values: [Float]) -> [Float] {
                guard let heads = m.permutedHeads else { return values }
                return PEFTRowOrder.hfFromLive(values, rows: m.outFeatures, heads: heads)
            }
            tensors.append((PEFTTensorName.a(name), [r, m.inFeatures], w.a))
            tensors.append((PEFTTensorName.b(name), [m.outFeatures, r], hf(w.b)))
            if let mag = w.magnitude {
                guard mag.count == m.outFeatures else { throw fail("module \(name): DoRA magnitude has \(mag.count) values, not \(m.outFeatures)") }
                tensors.append((PEFTTensorName.magnitude(name), [m.outFeatures], hf(mag)))
            }
            if let bias = w.bias {
                guard bias.count == m.outFeatures else { throw fail("module \(name): bias has \(bias.count) values, not \(m.outFeatures)") }
                tensors.append((PEFTTensorName.bias(name), [m.outFeatures], hf(bias)))
            }
        }
        for name in adapter.savedTensors.keys.sorted() {
            let saved = adapter.savedTensors[name]!
            guard let shape = layout.tensorShapes[name] else { throw fail("saved tensor \(name) is not a tensor of this model") }
            guard saved.shape == shape, saved.values.count == shape.reduce(1, *) else {
                throw fail("saved tensor \(name) has shape \(saved.shape) (\(saved.values.count) values) but the model's is \(shape)")
            }
            var values = saved.values
            if let heads = layout.permutedHeads(ofTensor: name) {
                values = PEFTRowOrder.hfFromLive(values, rows: shape[0], heads: heads)
            }
            tensors.append((PEFTTensorName.whole(name), shape, values))
        }

        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw FileError(path: dir, problem: "cannot create the adapter directory: \(error.localizedDescription)")
        }
        let owned = tensors.map { t -> (String, [Int], OwnedBytes) in
            let bytes = OwnedBytes(count: t.values.count * 4)
            t.values.withUnsafeBytes { bytes.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            return (t.name, t.shape, bytes)
        }
        let entries = owned.map {
            SafetensorsWriter.Tensor(name: $0.0, dtype: .f32, shape: $0.1,
                                     bytes: UnsafeRawBufferPointer(start: $0.2.pointer, count: $0.2.count))
        }
        let suffix = ".new-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let newWeights = weightsPath + suffix, newConfig = configPath + suffix
        defer {
            unlink(newWeights)
            unlink(newConfig)
        }
        try withExtendedLifetime(owned) {
            try SafetensorsWriter.write(entries, metadata: ["format": "pt"], to: newWeights)
        }
        try writeAtomically(to: newConfig) { try $0.write(PEFTAdapterConfigJSON.encode(adapter.config)) }
        // Both files are complete on disk; the renames are the only window where the
        // directory mixes old and new.
        guard rename(newWeights, weightsPath) == 0 else {
            throw FileError(path: weightsPath, problem: "cannot replace the file: \(describeErrno(errno))")
        }
        guard rename(newConfig, configPath) == 0 else {
            throw FileError(path: configPath, problem: "cannot replace the file: \(describeErrno(errno))")
        }
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Reads an adapter directory written by PEFT (or by `write`) for `model`, checking every
    /// tensor against the model and the config; rows come back in the model's layout.
    public static func read(directory: String, for model: LlamaModel) throws -> LoRAAdapter {
        let dir = trimmed(directory)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw FileError(path: dir, problem: "no such adapter directory")
        }
        guard isDir.boolValue else { throw FileError(path: dir, problem: "is a file, not an adapter directory") }
        let configPath = "\(dir)/\(configFileName)", weightsPath = "\(dir)/\(weightsFileName)"
        guard let configData = FileManager.default.contents(atPath: configPath) else {
            throw FileError(path: dir, problem: "no \(configFileName): not a PEFT adapter directory")
        }
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            let hasBin = FileManager.default.fileExists(atPath: "\(dir)/adapter_model.bin")
            throw FileError(path: dir, problem: hasBin
                ? "has adapter_model.bin but no \(weightsFileName); only safetensors adapter weights are read (save with safe_serialization=True)"
                : "no \(weightsFileName) beside \(configFileName)")
        }
        let file = try SafetensorsFile(path: weightsPath)
        func fail(_ why: String) -> FileError { FileError(path: weightsPath, problem: why) }
        let layout = PEFTModelLayout(model)

        struct Found { var a, b, magnitude, bias: SafetensorsTensorInfo? }
        var found: [String: Found] = [:]
        var whole: [SafetensorsTensorInfo] = []
        for info in file.tensorInfos {
            switch PEFTTensorName.parse(info.name) {
            case .notPEFT:
                throw fail("tensor \(info.name) is not a PEFT adapter tensor (names start with \(PEFTTensorName.prefix))")
            case .unsupportedLoRA:
                throw fail("tensor \(info.name) is a kind of LoRA tensor this engine does not read (only lora_A, lora_B, lora_magnitude_vector on linear layers)")
            case .tensor(let path, .whole):
                guard layout.tensorShapes[path] != nil else {
                    throw fail("tensor \(info.name): the model has no tensor \(path)")
                }
                whole.append(info)
            case .tensor(let path, let kind):
                guard layout.modules[path] != nil else {
                    throw fail("tensor \(info.name): unknown module \(path) (this model's linear layers are \(layout.moduleNamesHint))")
                }
                var f = found[path] ?? Found()
                switch kind {
                case .a: f.a = info
                case .b: f.b = info
                case .magnitude: f.magnitude = info
                default: f.bias = info
                }
                found[path] = f
            }
        }
        guard !file.tensorInfos.isEmpty else { throw fail("holds no tensors") }
        let moduleNames = layout.moduleOrder.filter { found[$0] != nil }
        let config = try PEFTAdapterConfigJSON.decode(configData, path: configPath, modulesWithTensors: moduleNames)

        func values(_ info: SafetensorsTensorInfo) throws -> [Float] {
            let t = try file.tensor(info.name)
            let n = t.elementCount
            var out = [Float](repeating: 0, count: n)
            guard n > 0, let base = t.bytes.baseAddress else { return out }
            out.withUnsafeMutableBufferPointer { dequantize(t.type, from: base, to: $0.baseAddress!, count: n) }
            return out
        }
        func expect(_ info: SafetensorsTensorInfo, _ shape: [Int], _ module: String, _ why: String) throws {
            guard info.shape == shape else {
                throw fail("tensor \(info.name) has shape \(info.shape), but \(module) needs \(shape) (\(why)); was the adapter made for another base model?")
            }
        }

        var modules: [String: LoRAModuleWeights] = [:]
        for name in moduleNames {
            let f = found[name]!, m = layout.modules[name]!
            guard let aInfo = f.a else { throw fail("module \(name) has no lora_A (\(PEFTTensorName.a(name)))") }
            guard let bInfo = f.b else { throw fail("module \(name) has no lora_B (\(PEFTTensorName.b(name)))") }
            guard aInfo.shape.count == 2, bInfo.shape.count == 2 else {
                throw fail("module \(name): lora_A has shape \(aInfo.shape) and lora_B \(bInfo.shape); both must be matrices")
            }
            let rank = aInfo.shape[0]
            guard bInfo.shape[1] == rank else {
                throw fail("module \(name): lora_A has rank \(rank) (shape \(aInfo.shape)) but lora_B rank \(bInfo.shape[1]) (shape \(bInfo.shape))")
            }
            guard rank == config.rank else {
                throw fail("module \(name) has rank \(rank) but \(configFileName) says r = \(config.rank)")
            }
            let ab = "the model's \(name) is [\(m.outFeatures), \(m.inFeatures)], rank \(rank)"
            try expect(aInfo, [rank, m.inFeatures], name, ab)
            try expect(bInfo, [m.outFeatures, rank], name, ab)
            func live(_ v: [Float]) -> [Float] {
                guard let heads = m.permutedHeads else { return v }
                return PEFTRowOrder.liveFromHF(v, rows: m.outFeatures, heads: heads)
            }
            var w = LoRAModuleWeights(inFeatures: m.inFeatures, outFeatures: m.outFeatures,
                                      a: try values(aInfo), b: live(try values(bInfo)))
            if let magInfo = f.magnitude {
                guard config.useDoRA else {
                    throw fail("module \(name) has a DoRA magnitude vector but \(configFileName) has use_dora false")
                }
                try expect(magInfo, [m.outFeatures], name, "one magnitude per output of [\(m.outFeatures), \(m.inFeatures)]")
                w.magnitude = live(try values(magInfo))
            } else if config.useDoRA {
                throw fail("module \(name) has no lora_magnitude_vector but \(configFileName) has use_dora true")
            }
            if let biasInfo = f.bias {
                try expect(biasInfo, [m.outFeatures], name, "one bias per output of [\(m.outFeatures), \(m.inFeatures)]")
                w.bias = live(try values(biasInfo))
            }
            modules[name] = w
        }
        var saved: [String: (shape: [Int], values: [Float])] = [:]
        for info in whole {
            let name = String(info.name.dropFirst(PEFTTensorName.prefix.count))
            let shape = layout.tensorShapes[name]!
            try expect(info, shape, name, "the model's \(name) is \(shape)")
            var v = try values(info)
            if let heads = layout.permutedHeads(ofTensor: name) {
                v = PEFTRowOrder.liveFromHF(v, rows: shape[0], heads: heads)
            }
            saved[name] = (shape, v)
        }
        return LoRAAdapter(config: config, modules: modules, savedTensors: saved)
    }

    private static func trimmed(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }
}
