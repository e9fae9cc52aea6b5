import Foundation

/// One `--dataset` entry in ms-swift's syntax: `[hf::|ms::]path_or_id[:subset1/subset2][#N]`.
///
/// Parsed the way ms-swift's `DatasetSyntax.parse` does: a string that names an existing path is
/// taken whole; otherwise the hub prefix is split off at the first `::`, the sample count at
/// the last `#`, and the subsets at the first `:` — each step skipped when what is left already
/// names an existing path.
public struct DatasetSpec: Equatable, Sendable {
    public enum Hub: String, Sendable { case huggingFace = "hf", modelScope = "ms" }

    public var dataset: String
    public var subsets: [String]
    public var sampleCount: Int?
    public var hub: Hub?

    /// The largest `#N` accepted; a bigger one is surely a typo and would only allocate.
    static let maxSampleCount = 10_000_000

    public init(dataset: String, subsets: [String] = [], sampleCount: Int? = nil, hub: Hub? = nil) {
        self.dataset = dataset
        self.subsets = subsets
        self.sampleCount = sampleCount
        self.hub = hub
    }

    public init(parsing raw: String, fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) throws {
        var text = raw.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else {
            throw DatasetError(file: "--dataset", problem: "an empty dataset entry (a stray empty or unset value?)")
        }
        var hub: Hub?
        if !fileExists(text), let r = text.range(of: "::") {
            let prefix = text[..<r.lowerBound].lowercased()
            switch prefix {
            case "hf": hub = .huggingFace
            case "ms": hub = .modelScope
            default: throw DatasetError(file: raw, problem: "unknown hub prefix '\(prefix)::' (ms-swift knows hf:: and ms::)")
            }
            text = String(text[r.upperBound...])
        }
        var count: Int?
        if !fileExists(text), let hash = text.lastIndex(of: "#") {
            let number = text[text.index(after: hash)...].trimmingCharacters(in: .whitespaces)
            guard let n = Int(number), n > 0 else {
                throw DatasetError(file: raw, problem: "the sample count after '#' must be a positive whole number, not '\(number)'")
            }
            guard n <= DatasetSpec.maxSampleCount else {
                throw DatasetError(file: raw, problem: "the sample count \(n) is larger than \(DatasetSpec.maxSampleCount)")
            }
            count = n
            text = String(text[..<hash])
        }
        var subsets: [String] = []
        if !fileExists(text), let colon = text.firstIndex(of: ":") {
            subsets = text[text.index(after: colon)...].split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            text = String(text[..<colon])
            if subsets.contains(where: \.isEmpty) {
                throw DatasetError(file: raw, problem: "an empty subset name after ':'")
            }
        }
        self.init(dataset: text.trimmingCharacters(in: .whitespaces), subsets: subsets, sampleCount: count, hub: hub)
    }

    /// The entry written back in ms-swift's syntax.
    public var text: String {
        var s = hub.map { $0.rawValue + "::" } ?? ""
        s += dataset
        if !subsets.isEmpty { s += ":" + subsets.joined(separator: "/") }
        if let n = sampleCount { s += "#\(n)" }
        return s
    }
}
