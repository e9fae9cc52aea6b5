/// Nearest-name suggestions for callers outside Script (e.g. a mistyped `tune stf`).
public enum Suggest {
    public static func nearest(_ typed: String, among names: [String]) -> [String] {
        NameSuggester.suggestions(for: typed, among: names)
    }
}
