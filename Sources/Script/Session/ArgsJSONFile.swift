import Foundation

/// args.json in an output directory: written after every command that writes one, read back
/// by `load_args` / `load_data_args`.
public enum ArgsJSONFile {
    public static let fileName = "args.json"

    /// Writes the resolved arguments (ms-swift key names) to DIR/args.json; returns its path.
    @discardableResult
    public static func write(_ arguments: ResolvedArguments, toDirectory dir: String) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = (dir as NSString).appendingPathComponent(fileName)
        try Data((arguments.argsJSON.prettyText + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        return path
    }

    /// Reads an args.json: values by canonical name, and the keys this registry does not know.
    public static func read(path: String) throws -> (values: [String: ArgumentValue], unknownKeys: [String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BackendError.failed("\(path): cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw BackendError.failed("\(path): is not UTF-8 text")
        }
        let json: JSONValue
        do { json = try JSONReader.read(text) } catch {
            throw BackendError.failed("\(path): is not valid JSON (\(error))")
        }
        guard case .object = json else { throw BackendError.failed("\(path): is not a JSON object") }
        return ArgumentRegistry.shared.arguments(fromArgsJSON: json)
    }

    /// The args.json `load_args` reads: in `resume_from_checkpoint`, else the first adapter, else the model
    /// directory; in the directory itself or the run directory above a `checkpoint-N`.
    public static func locate(for arguments: ResolvedArguments) -> String? {
        var dirs: [String] = []
        if let c = arguments.string("resume_from_checkpoint") { dirs.append(c) }
        if let a = arguments.strings("adapters")?.first { dirs.append(a) }
        if let m = arguments.string("model") { dirs.append(m) }
        let fm = FileManager.default
        for dir in dirs {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { continue }
            for candidate in [dir, (dir as NSString).deletingLastPathComponent] {
                let path = (candidate as NSString).appendingPathComponent(fileName)
                if fm.fileExists(atPath: path) { return path }
            }
        }
        return nil
    }

    /// Taken from the saved run even when given now (ms-swift's forced keys).
    static let forcedKeys: Set<String> = ["train_type", "task_type", "bnb_4bit_quant_type", "bnb_4bit_use_double_quant"]
    /// Taken from the saved run when not given now (None or an empty list).
    static let fillKeys: Set<String> = [
        "custom_register_path", "external_plugins", "model", "model_type", "model_revision", "torch_dtype",
        "attn_impl", "num_labels", "rope_scaling", "max_model_len", "quant_method", "quant_bits", "hqq_axis",
        "bnb_4bit_compute_dtype", "template", "system", "truncation_strategy", "agent_template", "norm_bbox",
        "use_chat_template", "response_prefix",
    ]

    /// Combines a saved run's values with the current ones the way ms-swift's load_args does;
    /// with `includeData`, every data argument comes from the saved run too.
    public static func merge(saved: [String: ArgumentValue], into current: [String: ArgumentValue],
                             includeData: Bool) -> [String: ArgumentValue] {
        var out = current
        for (key, old) in saved where old != .none {
            let section = ArgumentRegistry.shared.spec(key)?.section
            if forcedKeys.contains(key) || (includeData && section == "Data Arguments") {
                out[key] = old
                continue
            }
            if fillKeys.contains(key) {
                let now = out[key]
                let empty = now == nil || now == ArgumentValue.none || now?.listValue?.isEmpty == true
                if empty { out[key] = old }
            }
        }
        return out
    }
}
