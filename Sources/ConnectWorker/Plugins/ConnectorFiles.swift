import Foundation
import PipelineCore

/// A problem with a file named on the command line; the message starts with
/// the path, so with several connector files the one at fault is clear.
public struct FileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Reads the connector and worker files given on the command line.
public enum ConnectorFiles {
    /// The file's bytes; a missing file, a directory or an unreadable file is
    /// a one-line ``FileError`` instead of Foundation's error dump.
    public static func read(_ path: String) throws(FileError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FileError(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw FileError(path: path, reason: "is a directory, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileError(path: path, reason: "cannot be read (permissions?)")
        }
        return Array(data)
    }

    /// Parses each connector file (named by its path in any error) and
    /// refuses the same file twice or two connectors with one name: they
    /// would share a consumer group or offset key and run twice.
    public static func specs(_ paths: [String]) throws(FileError) -> [(path: String, spec: ConnectorSpec)] {
        var seenFiles: [String: String] = [:]
        var seenNames: [String: String] = [:]
        var result: [(path: String, spec: ConnectorSpec)] = []
        for path in paths {
            let canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
            if let first = seenFiles[canonical] {
                throw FileError(path: path, reason: first == path ? "given twice; each connector runs once" : "given twice (also as \(first)); each connector runs once")
            }
            seenFiles[canonical] = path
            let fallback = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let spec = try attributed(to: path) { () throws in try ConnectorSpec.parse(try read(path), fallbackName: fallback) }
            if let first = seenNames[spec.name] {
                throw FileError(path: path, reason: "connector name '\(spec.name)' is already used by \(first); connector names must be unique")
            }
            seenNames[spec.name] = path
            result.append((path, spec))
        }
        return result
    }

    /// Runs `body`, prefixing any error with `path` (a config error names the key, this names the file).
    public static func attributed<T, E: Error>(to path: String, _ body: () throws(E) -> T) throws(FileError) -> T {
        do {
            return try body()
        } catch let error as FileError {
            throw error
        } catch {
            throw FileError(path: path, reason: "\(error)")
        }
    }
}
