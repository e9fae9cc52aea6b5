import Foundation

/// Everything a `tune` session holds: argument settings, the live objects, the history.
public final class Session {
    public struct Object<Handle: Equatable>: Equatable {
        public var name: String
        public var handle: Handle
    }

    /// Canonical argument name -> its setting.
    public private(set) var settings: [String: ArgumentSetting] = [:]
    /// Names in the order they were first set (stable `show args` and `save`).
    public private(set) var settingOrder: [String] = []

    public var models: [Object<ModelHandle>] = []
    public var adapters: [Object<AdapterHandle>] = []
    public var datasets: [Object<DatasetHandle>] = []
    public var liveModel: String?
    /// The adapter applied to the live model; nil is the base model.
    public var liveAdapter: String?

    /// Every statement entered at the top level, as typed (for `history`).
    public var history: [String] = []
    /// Statements that changed the session, in order and flattened through `run` (for `save`).
    public var record: [String] = []
    /// The `chat` conversation (kept between `chat` sessions until `/clear` or `/reset`).
    public var conversation: [ChatMessage] = []

    /// The last `sft` / `pt` of the session: what it ran with and where it ended, for `continue`.
    public struct TrainingRun {
        public var command: Command
        public var arguments: ResolvedArguments
        public var model: ModelHandle?
        public var datasets: [DatasetHandle]
        /// Where the run ended; nil under `--check`, where nothing runs.
        public var state: TrainingRunState?
    }
    public var lastTraining: TrainingRun?

    public init() {}

    public func set(_ name: String, _ value: ArgumentValue, origin: ArgumentOrigin) {
        if settings.updateValue(ArgumentSetting(value: value, origin: origin), forKey: name) == nil {
            settingOrder.append(name)
        }
    }

    public func unset(_ name: String) {
        settings[name] = nil
        settingOrder.removeAll { $0 == name }
    }

    public func value(_ name: String) -> ArgumentValue? { settings[name]?.value }

    public var explicitValues: [String: ArgumentValue] { settings.mapValues(\.value) }

    /// Whether argument errors are warnings (the session's `ignore_args_error`).
    public var ignoresArgumentErrors: Bool { settings["ignore_args_error"]?.value.boolValue == true }

    public var model: Object<ModelHandle>? { liveModel.flatMap { n in models.first { $0.name == n } } }
    public var adapter: Object<AdapterHandle>? { liveAdapter.flatMap { n in adapters.first { $0.name == n } } }

    /// Every object name, for completion and name clashes.
    public var objectNames: [String] { models.map(\.name) + adapters.map(\.name) + datasets.map(\.name) }

    /// A free object name from a path: `out/v0/checkpoint-40` -> `checkpoint-40`, `a.gguf` -> `a`.
    public func defaultName(for path: String) -> String {
        var base = path
        if let hash = base.lastIndex(of: "#") { base = String(base[..<hash]) }
        while base.hasSuffix("/") { base.removeLast() }
        var stem = (base as NSString).lastPathComponent
        let ext = (stem as NSString).pathExtension
        if !ext.isEmpty { stem = (stem as NSString).deletingPathExtension }
        if stem.isEmpty { stem = "object" }
        var name = stem
        var n = 2
        while objectNames.contains(name) {
            name = "\(stem)-\(n)"
            n += 1
        }
        return name
    }
}
