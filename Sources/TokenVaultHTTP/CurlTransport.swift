import CCurl
import TokenVault
import TokenVaultGitLab
import Glibc

/// HTTPS on libcurl. It earns its place over URLSession: on Linux, URLSession has no way to
/// trust a private certificate authority (FoundationNetworking reads its CA setting on Android
/// only), cannot tell whether a request that timed out was sent, and would link Foundation.
///
/// - HTTPS only, no redirects; certificates and host names are verified; `caFile` replaces the
///   system's authorities.
/// - Proxies as libcurl reads them from the environment: `https_proxy` (or `HTTPS_PROXY`),
///   `all_proxy`, `no_proxy`.
/// - The token goes in the `PRIVATE-TOKEN` header, built in wiped memory that libcurl reads in
///   place; the answer is collected in wiped memory (at most 64 KiB).
public struct CurlTransport: HTTPTransport {
    public init() {
        _ = Self.initialised
    }

    private static let initialised: Bool = {
        // OpenSSL would write the TLS session's keys to this file.
        unsetenv("SSLKEYLOGFILE")
        return curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    static let maximumAnswer = 64 * 1024

    /// Collects the answer; libcurl's callbacks reach it through a pointer.
    private final class Sink {
        let buffer: UnsafeMutableRawBufferPointer
        var count = 0
        var overflow = false
        var retryAfter: String?
        /// Set when the connection to GitLab is up (through any proxy, TLS done) and the request
        /// is about to go: from then on, GitLab may have acted on it.
        var sending = false
        init(buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }
    }

    public func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        guard let curl = curl_easy_init() else { throw .failed("libcurl could not start", sent: false) }
        defer { curl_easy_cleanup(curl) }
        var failure: TransportError?
        var status = 0
        var retryAfter: String?
        let body = Secret.filling(maxCount: Self.maximumAnswer) { buffer in
            let sink = Sink(buffer: buffer)
            let result = withExtendedLifetime(sink) { () -> CURLcode in
                Self.perform(curl, request, sink: Unmanaged.passUnretained(sink).toOpaque())
            }
            retryAfter = sink.retryAfter
            if sink.overflow {
                failure = .failed("the answer is larger than \(Self.maximumAnswer / 1024) KiB", sent: true)
            } else {
                var code = 0
                _ = ccurl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &code)
                status = code
                // A transfer that failed after GitLab's answer began (its end never came) still
                // hands over what arrived: a rotation's new token may be whole in it, and the
                // reader refuses what is cut short.
                if result != CURLE_OK && !(code >= 200 && sink.count > 0) {
                    failure = Self.failure(result, sent: sink.sending)
                }
            }
            return sink.count
        }
        if let failure { throw failure }
        return HTTPResponse(status: status, body: body, retryAfter: retryAfter)
    }

    /// Runs the transfer.
    private static func perform(_ curl: UnsafeMutableRawPointer, _ request: HTTPRequest, sink: UnsafeMutableRawPointer) -> CURLcode {
        // "PRIVATE-TOKEN: <token>" in guarded memory, handed to libcurl as a list node of our
        // own (libcurl reads a header list in place and does not copy it).
        let prefix = Array((request.tokenHeader + ": ").utf8)
        let header = Secret.filling(maxCount: prefix.count + request.token.count + 1) { buffer in
            buffer.copyBytes(from: prefix)
            request.token.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[prefix.count...]).copyMemory(from: $0) }
            buffer[prefix.count + request.token.count] = 0
            return prefix.count + request.token.count + 1
        }
        return header.withUnsafeBytes { headerBytes in
            var fixed = ["Accept: application/json", "User-Agent: TokenVault"] + request.headers
            // No token (a login, a health check): its header is not sent at all.
            let skip = request.token.isEmpty ? 1 : 0
            if request.body != nil || request.secretBody != nil { fixed.append("Content-Type: application/json") }
            let cStrings = fixed.map { strdup($0) }
            defer { cStrings.forEach { free($0) } }
            var nodes = [curl_slist](repeating: curl_slist(data: nil, next: nil), count: cStrings.count + 1)
            return nodes.withUnsafeMutableBufferPointer { list -> CURLcode in
                list[0].data = UnsafeMutablePointer(mutating: headerBytes.baseAddress!.assumingMemoryBound(to: CChar.self))
                for (i, string) in cStrings.enumerated() {
                    list[i].next = list.baseAddress! + i + 1
                    list[i + 1].data = string
                }
                list[cStrings.count].next = nil
                let first = list.baseAddress! + skip
                var body = request.body ?? []
                let secret = request.secretBody ?? Secret("")
                return body.withUnsafeMutableBytes { bodyBytes -> CURLcode in secret.withUnsafeBytes { secretBody -> CURLcode in
                    _ = ccurl_setopt_pointer(curl, CURLOPT_URL, request.url)
                    let plain = request.allowsLoopbackHTTP && Self.isLoopbackHTTP(request.url)
                    _ = ccurl_setopt_pointer(curl, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https")
                    // Plain HTTP never goes through a proxy: the token would cross it in clear.
                    if plain { _ = ccurl_setopt_pointer(curl, CURLOPT_NOPROXY, "*") }
                    _ = ccurl_setopt_long(curl, CURLOPT_FOLLOWLOCATION, 0)
                    _ = ccurl_setopt_long(curl, CURLOPT_SSL_VERIFYPEER, 1)
                    _ = ccurl_setopt_long(curl, CURLOPT_SSL_VERIFYHOST, 2)
                    if let caFile = request.caFile {
                        // Only these authorities: not the system's folder of them as well.
                        _ = ccurl_setopt_pointer(curl, CURLOPT_CAINFO, caFile)
                        _ = ccurl_setopt_pointer(curl, CURLOPT_CAPATH, nil)
                    }
                    // Headers go to GitLab only, never to a proxy's CONNECT.
                    _ = ccurl_setopt_long(curl, CURLOPT_HEADEROPT, Int(CURLHEADER_SEPARATE))
                    _ = ccurl_setopt_pointer(curl, CURLOPT_PREREQDATA, sink)
                    _ = ccurl_setopt_prereq(curl) { context, _, _, _, _ in
                        if let context { Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue().sending = true }
                        return 0  // CURL_PREREQFUNC_OK
                    }
                    _ = ccurl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT, min(request.connectTimeout ?? 10, request.timeout))
                    _ = ccurl_setopt_long(curl, CURLOPT_TIMEOUT, request.timeout)
                    _ = ccurl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
                    _ = ccurl_setopt_pointer(curl, CURLOPT_HTTPHEADER, first)
                    _ = ccurl_setopt_pointer(curl, CURLOPT_CUSTOMREQUEST, request.method.rawValue)
                    if request.secretBody != nil {
                        // Read in place from wiped memory, never copied by libcurl (the method
                        // stays the one asked for: CUSTOMREQUEST above).
                        _ = ccurl_setopt_long(curl, CURLOPT_POST, 1)
                        _ = ccurl_setopt_long(curl, CURLOPT_POSTFIELDSIZE, secretBody.count)
                        _ = ccurl_setopt_pointer(curl, CURLOPT_POSTFIELDS, secretBody.baseAddress)
                    } else if request.method == .post || request.method == .put {
                        _ = ccurl_setopt_long(curl, CURLOPT_POST, 1)
                        _ = ccurl_setopt_long(curl, CURLOPT_POSTFIELDSIZE, bodyBytes.count)
                        // Copied by libcurl (the body is never a secret).
                        if let base = bodyBytes.baseAddress, bodyBytes.count > 0 {
                            _ = ccurl_setopt_pointer(curl, CURLOPT_COPYPOSTFIELDS, base)
                        } else {
                            _ = ccurl_setopt_pointer(curl, CURLOPT_COPYPOSTFIELDS, "")
                        }
                    }
                    _ = ccurl_setopt_pointer(curl, CURLOPT_WRITEDATA, sink)
                    _ = ccurl_setopt_write(curl, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                        guard let data, let context else { return 0 }
                        let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                        let length = size * count
                        guard sink.count + length <= sink.buffer.count else { sink.overflow = true; return 0 }
                        UnsafeMutableRawBufferPointer(rebasing: sink.buffer[sink.count..<(sink.count + length)])
                            .copyMemory(from: UnsafeRawBufferPointer(start: data, count: length))
                        sink.count += length
                        return length
                    }
                    _ = ccurl_setopt_pointer(curl, CURLOPT_HEADERDATA, sink)
                    _ = ccurl_setopt_write(curl, CURLOPT_HEADERFUNCTION) { data, size, count, context in
                        guard let data, let context else { return 0 }
                        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
                        if line.lowercased().hasPrefix("retry-after:") {
                            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                            // Seconds; a date is not repeated (the message then says "later").
                            let value = String(line.dropFirst(12)).trimmingCharacters(in: " \r\n")
                            if !value.isEmpty, value.count <= 9, value.allSatisfy({ $0.isASCII && $0.isNumber }) { sink.retryAfter = value }
                        }
                        return size * count
                    }
                    let result = curl_easy_perform(curl)
                    // libcurl's own copies are not ours to wipe; the list and the header are.
                    _ = ccurl_setopt_pointer(curl, CURLOPT_HTTPHEADER, nil)
                    return result
                } }
            }
        }
    }

    /// `http://127.x.x.x[:port]/...`, `http://[::1]...` or `http://localhost...`: the only plain
    /// HTTP allowed, and never through a proxy.
    static func isLoopbackHTTP(_ url: String) -> Bool {
        guard url.hasPrefix("http://") else { return false }
        let rest = url.dropFirst(7)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else { return false }
        let host: Substring
        if authority.hasPrefix("[") {
            host = authority.prefix { $0 != "]" }.dropFirst()
            return host == "::1"
        }
        host = authority.prefix { $0 != ":" }
        if host == "localhost" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    private static func failure(_ code: CURLcode, sent: Bool) -> TransportError {
        let detail = String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT, CURLE_UNSUPPORTED_PROTOCOL,
             CURLE_URL_MALFORMAT:
            return .cannotConnect(detail)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return sent ? .failed(detail, sent: true) : .tls(detail)
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout(sent: sent)
        default:
            return .failed(detail, sent: sent)
        }
    }
}
