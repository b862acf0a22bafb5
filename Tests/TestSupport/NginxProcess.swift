import Foundation

/// nginx (from Debian) serving a directory on loopback: one worker, sendfile on, access log off — the anchor the
/// data plane is compared against in tests and benchmarks.
public enum NginxProcess {
    /// Starts nginx for `root` on `host:port`; the prefix directory holds its config, pid and logs.
    public static func start(root: String, host: String, port: Int) throws -> ServerProcess {
        try run(server: "root \(root);", host: host, port: port)
    }

    /// Starts nginx as a shared cache in front of `upstream` (host:port) that keeps what `Cache-Control` allows, for
    /// as long as it allows, and revalidates with the validators; `X-Proxy-Cache` says HIT, MISS, REVALIDATED, EXPIRED.
    public static func startCachingProxy(upstream: String, host: String, port: Int) throws -> ServerProcess {
        let cache = NSTemporaryDirectory() + "edgenode-nginx-cache-\(UUID().uuidString.prefix(8))"
        return try run(server: """
            location / {
                        proxy_pass http://\(upstream);
                        proxy_http_version 1.1;
                        proxy_cache shared;
                        proxy_cache_revalidate on;
                        add_header X-Proxy-Cache $upstream_cache_status always;
                    }
            """, http: "proxy_cache_path \(cache) levels=1:2 keys_zone=shared:8m use_temp_path=off;", host: host, port: port)
    }

    private static func run(server: String, http: String = "", host: String, port: Int) throws -> ServerProcess {
        let prefix = NSTemporaryDirectory() + "edgenode-nginx-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: prefix + "/logs", withIntermediateDirectories: true)
        let config = """
            daemon off;
            master_process off;
            worker_processes 1;
            user root;
            pid \(prefix)/nginx.pid;
            error_log \(prefix)/logs/error.log error;
            events { worker_connections 4096; }
            http {
                access_log off;
                sendfile on;
                tcp_nopush on;
                tcp_nodelay on;
                keepalive_requests 1000000;
                client_body_temp_path \(prefix)/body;
                proxy_temp_path \(prefix)/proxy;
                fastcgi_temp_path \(prefix)/fastcgi;
                uwsgi_temp_path \(prefix)/uwsgi;
                scgi_temp_path \(prefix)/scgi;
                types {
                    application/vnd.apple.mpegurl m3u8;
                    video/mp2t ts;
                    video/iso.segment m4s;
                    video/mp4 mp4;
                    application/json json;
                }
                default_type application/octet-stream;
                \(http)
                server {
                    listen \(host):\(port);
                    \(server)
                    location = /healthz { return 200 "ok\\n"; }
                }
            }
            """
        try config.write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
        guard let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw FixtureError(message: "nginx is not installed (make test installs it: scripts/install-deps.sh nginx)")
        }
        return try ServerProcess(nginx, ["-p", prefix, "-c", prefix + "/nginx.conf"], host: host, port: port)
    }
}
