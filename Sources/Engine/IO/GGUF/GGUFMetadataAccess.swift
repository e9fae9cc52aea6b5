extension GGUFFile {
    func metadataError(_ problem: String) -> GGUFError {
        GGUFError(path: path, kind: .badMetadata, problem: problem)
    }

    func metadataError(_ kind: GGUFError.Kind, _ problem: String) -> GGUFError {
        GGUFError(path: path, kind: kind, problem: problem)
    }

    /// An integer metadata value; nil when absent, an error when present with another type.
    func metadataInt(_ key: String) throws -> Int? {
        guard let v = metadata[key] else { return nil }
        guard let i = v.int else { throw metadataError("'\(key)' should be an integer, found \(v.type)") }
        return i
    }

    func metadataPositiveInt(_ key: String) throws -> Int? {
        guard let i = try metadataInt(key) else { return nil }
        guard i > 0 else { throw metadataError("'\(key)' must be positive, is \(i)") }
        return i
    }

    func requiredPositiveInt(_ key: String) throws -> Int {
        guard let i = try metadataPositiveInt(key) else { throw metadataError("missing metadata '\(key)'") }
        return i
    }

    func metadataDouble(_ key: String) throws -> Double? {
        guard let v = metadata[key] else { return nil }
        guard let d = v.double else { throw metadataError("'\(key)' should be a number, found \(v.type)") }
        return d
    }

    func metadataString(_ key: String) throws -> String? {
        guard let v = metadata[key] else { return nil }
        guard let s = v.string else { throw metadataError("'\(key)' should be a string, found \(v.type)") }
        return s
    }

    func metadataBool(_ key: String) throws -> Bool? {
        guard let v = metadata[key] else { return nil }
        guard let b = v.bool else { throw metadataError("'\(key)' should be a bool, found \(v.type)") }
        return b
    }

    func metadataStringArray(_ key: String) throws -> [String]? {
        guard let v = metadata[key] else { return nil }
        guard let a = v.stringArray else { throw metadataError("'\(key)' should be an array of strings") }
        return a
    }

    /// `general.architecture` as written in the file.
    public var architectureName: String? { metadata["general.architecture"]?.string }
}
