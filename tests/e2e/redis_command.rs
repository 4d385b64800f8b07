//! A minimal Redis client for tests that inspect or damage an `arbiter`'s keys: RESP over a
//! plain TCP connection, one command per connection (the test binary has no Redis crate).

use serde_json::Value;

/// A minimal Redis client for tests that inspect or damage an `arbiter`'s keys (RESP over a
/// plain TCP connection): sends one command, returns the reply. Integers come back as
/// numbers, bulk strings as strings, nil as `Null`, arrays as arrays; an error reply panics.
pub async fn redis_command(url: &str, args: &[&str]) -> Value {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

    let addr = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .expect("host:port")
        .to_owned();
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .unwrap_or_else(|e| panic!("connect to Redis at {addr}: {e}"));
    let mut stream = tokio::io::BufReader::new(stream);
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .expect("send to Redis");

    // Replies are read iteratively: a stack of arrays still being filled.
    let mut stack: Vec<(usize, Vec<Value>)> = Vec::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.expect("read from Redis");
        let line = line.trim_end_matches("\r\n");
        let (kind, rest) = line.split_at(1);
        let value = match kind {
            ":" => Value::from(rest.parse::<i64>().expect("integer reply")),
            "+" => Value::from(rest),
            "-" => panic!("Redis error for {args:?}: {rest}"),
            "$" => match rest.parse::<i64>().expect("bulk length") {
                -1 => Value::Null,
                n => {
                    let mut buf = vec![0u8; usize::try_from(n).expect("length") + 2];
                    stream.read_exact(&mut buf).await.expect("bulk");
                    buf.truncate(buf.len() - 2);
                    Value::from(String::from_utf8(buf).expect("utf-8 bulk"))
                }
            },
            "*" => match rest.parse::<i64>().expect("array length") {
                -1 => Value::Null,
                0 => Value::Array(vec![]),
                n => {
                    stack.push((usize::try_from(n).expect("length"), Vec::new()));
                    continue;
                }
            },
            other => panic!("unexpected Redis reply type `{other}`"),
        };
        let mut value = value;
        loop {
            match stack.last_mut() {
                None => return value,
                Some((len, items)) => {
                    items.push(value);
                    if items.len() < *len {
                        break;
                    }
                    let (_, items) = stack.pop().expect("array");
                    value = Value::Array(items);
                }
            }
        }
    }
}
