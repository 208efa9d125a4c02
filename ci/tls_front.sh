# tls_front.sh -- TLS and HTTP/2 in front of the simulator, for the tests and the benchmark:
# a test CA made with the openssl CLI and an nginx (Debian's nginx-light: TLS, HTTP/2) on
# 127.0.0.1 that proxies to the simulator over keep-alive HTTP/1.1. Sourced; defines
#   tls_make_ca DIR          DIR/ca.pem (the CA), DIR/server.pem and server.key (a
#                            certificate for IP 127.0.0.1 only, signed by it), DIR/wrong-ca.pem
#                            (another CA, which signed nothing); made once
#   tls_front_start DIR PORT nginx on 127.0.0.1:$TLS_PORT in front of the simulator at PORT,
#                            one process ($TLS_PID, master_process off), and the same proxy
#                            over plain HTTP/1.1 on 127.0.0.1:$FRONT_PLAIN_PORT (the benchmark's
#                            plain http through the same front); DIR/access.log has a
#                            line per request: connection number, request number on it,
#                            protocol, status, Content-Encoding, request line. Returns non-zero when it fails.
#   tls_front_stop           stops it by its pid
TLS_PID= TLS_PORT= FRONT_PLAIN_PORT=

tls_make_ca() {
    local dir=$1
    [ -s "$dir/server.pem" ] && return 0
    mkdir -p "$dir"
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=lkarchive test CA" \
            -keyout ca.key -out ca.pem
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another test CA" \
            -keyout wrong-ca.key -out wrong-ca.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
        printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile ext.cnf -out server.pem
    ) >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; echo "tls: openssl could not make the test CA" >&2; return 1; }
}

# free_port: a TCP port on 127.0.0.1 free now
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

tls_front_start() {
    local dir=$1 upstream=$2 nginx conf
    nginx=$(command -v nginx || echo /usr/sbin/nginx)
    [ -x "$nginx" ] || { echo "tls: nginx is not installed (ci/deps.sh: nginx-light)" >&2; return 1; }
    tls_make_ca "$dir" || return 1
    mkdir -p "$dir/nginx/tmp"
    TLS_PORT=$(free_port)
    FRONT_PLAIN_PORT=$(free_port)
    conf=$dir/nginx/nginx.conf
    cat >"$conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log info;
events { worker_connections 1024; }
http {
    log_format tls '\$connection \$connection_requests \$server_protocol \$status \$sent_http_content_encoding "\$request"';
    access_log $dir/access.log tls;
    client_body_temp_path $dir/nginx/tmp/body;
    proxy_temp_path $dir/nginx/tmp/proxy;
    fastcgi_temp_path $dir/nginx/tmp/fastcgi;
    uwsgi_temp_path $dir/nginx/tmp/uwsgi;
    scgi_temp_path $dir/nginx/tmp/scgi;
    upstream sim { server 127.0.0.1:$upstream; keepalive 64; }
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$TLS_PORT ssl http2;
        listen 127.0.0.1:$FRONT_PLAIN_PORT;
        ssl_certificate $dir/server.pem;
        ssl_certificate_key $dir/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        http2_max_requests 1000000;
        http2_chunk_size 16k;
        location / {
            proxy_pass http://sim;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # as a TLS front in production is set: responses gathered into 64 KB buffers
            # (never a temporary file) and sent in full 16 KB DATA frames, not in the pieces
            # the upstream's socket happened to return
            proxy_buffer_size 64k;
            proxy_buffers 16 64k;
            proxy_busy_buffers_size 128k;
            proxy_max_temp_file_size 0;
            proxy_read_timeout 600s;
        }
    }
}
CONF
    "$nginx" -p "$dir/nginx" -e "$dir/nginx/error.log" -c "$conf" >"$dir/nginx/stdout.log" 2>&1 &
    TLS_PID=$!
    for _ in $(seq 1 200); do
        curl -s -o /dev/null --cacert "$dir/ca.pem" "https://127.0.0.1:$TLS_PORT/_sim/stats" && return 0
        kill -0 "$TLS_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$dir/nginx/error.log" "$dir/nginx/stdout.log" >&2
    echo "tls: nginx did not start" >&2
    return 1
}

tls_front_stop() {
    if [ -n "$TLS_PID" ] && kill -0 "$TLS_PID" 2>/dev/null; then
        kill -TERM "$TLS_PID" 2>/dev/null || true
        wait "$TLS_PID" 2>/dev/null || true
    fi
    TLS_PID=
}
