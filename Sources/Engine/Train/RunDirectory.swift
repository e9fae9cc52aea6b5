import Foundation

/// ms-swift's `add_version`: each run goes to `<output_dir>/v<N>-<YYYYMMDD-HHMMSS>`, N one more
/// than the highest version already there.
public enum RunDirectory {
    public static func make(in outputDirectory: String, addVersion: Bool, now: Date = Date()) throws -> String {
        let fm = FileManager.default
        guard addVersion else {
            try fm.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            return outputDirectory
        }
        try fm.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        let existing = (try? fm.contentsOfDirectory(atPath: outputDirectory)) ?? []
        let next = (existing.compactMap(version(of:)).max() ?? -1) + 1
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyyMMdd-HHmmss"
        let path = outputDirectory + "/v\(next)-" + f.string(from: now)
        try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// N of a `vN-...` directory name.
    static func version(of name: String) -> Int? {
        guard name.hasPrefix("v"), let dash = name.firstIndex(of: "-") else { return nil }
        return Int(name[name.index(after: name.startIndex)..<dash])
    }
}
