//! API Gateway HTTP API, locally: route matching with API Gateway's precedence, payload format 2.0 events, and
//! the 2.0 response format turned back into HTTP.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::function::HttpRoute;
use crate::template::ACCOUNT_ID;

/// The API id the local stack reports in events (`requestContext.apiId`).
pub const API_ID: &str = "local";

/// One route of the API and the function behind it.
#[derive(Debug, Clone)]
pub struct Route {
    pub route: HttpRoute,
    /// The function's logical id.
    pub function: String,
}

/// A route that matched a request, with its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub route_key: String,
    pub function: String,
    pub path_parameters: BTreeMap<String, String>,
}

/// The API's routes, matched as API Gateway does: the most specific path wins (literal segments over `{param}`
/// over `{proxy+}`), an exact method over `ANY`, and `$default` when nothing else matches.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

/// How specific a match is; compared lexicographically, higher wins.
type Specificity = (Vec<u8>, u8);

impl RouteTable {
    pub fn new(routes: Vec<Route>) -> Self {
        Self { routes }
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn find(&self, method: &str, path: &str) -> Option<Matched> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut best: Option<(Specificity, Matched)> = None;
        let mut default = None;
        for route in &self.routes {
            let method_rank = if route.route.method == method {
                2
            } else if route.route.method == "ANY" {
                1
            } else {
                continue;
            };
            let Some(template) = &route.route.path else {
                if default.is_none() || method_rank == 2 {
                    default = Some(route);
                }
                continue;
            };
            let Some((ranks, parameters)) = match_path(template, &segments) else { continue };
            let specificity = (ranks, method_rank);
            if best.as_ref().is_none_or(|(b, _)| specificity > *b) {
                best = Some((
                    specificity,
                    Matched {
                        route_key: route.route.route_key(),
                        function: route.function.clone(),
                        path_parameters: parameters,
                    },
                ));
            }
        }
        best.map(|(_, m)| m).or_else(|| {
            default.map(|route| Matched {
                route_key: "$default".into(),
                function: route.function.clone(),
                path_parameters: BTreeMap::new(),
            })
        })
    }
}

/// Matches `segments` against a path template; per segment rank 3 literal, 2 `{param}`, 1 `{proxy+}`.
fn match_path(template: &str, segments: &[&str]) -> Option<(Vec<u8>, BTreeMap<String, String>)> {
    let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let mut ranks = Vec::new();
    let mut parameters = BTreeMap::new();
    for (i, part) in parts.iter().enumerate() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            // Greedy: the rest of the path, at least one segment.
            let rest = segments.get(i..).filter(|rest| rest.iter().any(|s| !s.is_empty()))?;
            parameters.insert(name.to_owned(), decode(&rest.join("/")));
            ranks.push(1);
            return Some((ranks, parameters));
        }
        let segment = segments.get(i)?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if segment.is_empty() {
                return None;
            }
            parameters.insert(name.to_owned(), decode(segment));
            ranks.push(2);
        } else if part == segment {
            ranks.push(3);
        } else {
            return None;
        }
    }
    (parts.len() == segments.len()).then_some((ranks, parameters))
}

/// Percent-decoding of a path segment (API Gateway hands decoded path parameters to the function).
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&segment[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A request as the local API received it.
#[derive(Debug)]
pub struct Request<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source: SocketAddr,
    pub request_id: &'a str,
}

/// The payload format 2.0 event API Gateway builds for `request` on `matched`.
pub fn event(request: &Request<'_>, matched: &Matched, domain: &str) -> Value {
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in request.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name.as_str() == "cookie" {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
        } else {
            headers.entry(name.as_str().to_ascii_lowercase()).or_default().push(value);
        }
    }
    let user_agent = headers.get("user-agent").map(|v| v.join(",")).unwrap_or_default();
    let headers: Map<String, Value> = headers.into_iter().map(|(k, v)| (k, Value::String(v.join(",")))).collect();
    let raw_query = request.query.unwrap_or_default();
    let mut query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query.entry(decode(&k.replace('+', " "))).or_default().push(decode(&v.replace('+', " ")));
    }
    let now = chrono::Utc::now();
    let mut event = json!({
        "version": "2.0",
        "routeKey": matched.route_key,
        "rawPath": request.path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": domain,
            "domainPrefix": domain.split('.').next().unwrap_or(domain),
            "http": {
                "method": request.method.as_str(),
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source.ip().to_string(),
                "userAgent": user_agent,
            },
            "requestId": request.request_id,
            "routeKey": matched.route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] =
            Value::Object(query.into_iter().map(|(k, v)| (k, Value::String(v.join(",")))).collect());
    }
    if !matched.path_parameters.is_empty() {
        event["pathParameters"] = json!(matched.path_parameters);
    }
    if !request.body.is_empty() {
        let content_type = request.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        match std::str::from_utf8(request.body) {
            Ok(text) if is_text(content_type) => event["body"] = Value::String(text.to_owned()),
            _ => {
                event["body"] = Value::String(STANDARD.encode(request.body));
                event["isBase64Encoded"] = Value::Bool(true);
            }
        }
    }
    event
}

/// Content types API Gateway passes as text; everything else is base64-encoded.
fn is_text(content_type: &str) -> bool {
    let c = content_type.to_ascii_lowercase();
    c.is_empty()
        || c.starts_with("text/")
        || c.contains("json")
        || c.contains("xml")
        || c.contains("javascript")
        || c.contains("x-www-form-urlencoded")
        || c.contains("yaml")
}

/// A synthesized `GET <path>` event for a path no template route holds (the OpenAPI document).
pub fn synthetic_get(path: &str, domain: &str) -> Value {
    let headers = HeaderMap::new();
    let request = Request {
        method: &Method::GET,
        path,
        query: None,
        headers: &headers,
        body: &[],
        source: SocketAddr::from(([127, 0, 0, 1], 0)),
        request_id: &uuid::Uuid::new_v4().to_string(),
    };
    let matched =
        Matched { route_key: format!("GET {path}"), function: String::new(), path_parameters: BTreeMap::new() };
    event(&request, &matched, domain)
}

/// The HTTP response for a function's 2.0 result. `None` when the result is malformed (a 500, as API Gateway).
pub fn response(result: &Value, request_id: &str) -> Option<Response<Body>> {
    let looks_like_response = result.get("statusCode").is_some();
    let mut builder = Response::builder();
    if !looks_like_response {
        // API Gateway infers: 200, JSON, the value itself as the body.
        let body = match result {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return builder
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("apigw-requestid", request_id)
            .body(Body::from(body))
            .ok();
    }
    let status = result["statusCode"].as_u64().and_then(|s| u16::try_from(s).ok())?;
    builder = builder.status(StatusCode::from_u16(status).ok()?);
    let headers = builder.headers_mut()?;
    if let Some(Value::Object(map)) = result.get("headers") {
        for (name, value) in map {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            headers.insert(HeaderName::from_bytes(name.as_bytes()).ok()?, HeaderValue::from_str(&text).ok()?);
        }
    }
    if let Some(Value::Object(map)) = result.get("multiValueHeaders") {
        for (name, values) in map {
            let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
            for value in values.as_array().into_iter().flatten().filter_map(Value::as_str) {
                headers.append(name.clone(), HeaderValue::from_str(value).ok()?);
            }
        }
    }
    for cookie in result.get("cookies").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        headers.append("set-cookie", HeaderValue::from_str(cookie).ok()?);
    }
    headers.insert("apigw-requestid", HeaderValue::from_str(request_id).ok()?);
    let body = match result.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if result["isBase64Encoded"].as_bool() == Some(true) => STANDARD.decode(s).ok()?,
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    };
    builder.body(Body::from(body)).ok()
}

/// API Gateway's own JSON error responses (`{"message": ...}`).
pub fn gateway_error(status: StatusCode, message: &str, request_id: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(json!({ "message": message }).to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("apigw-requestid", id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        let route = |method: &str, path: Option<&str>, function: &str| Route {
            route: HttpRoute { method: method.into(), path: path.map(str::to_owned) },
            function: function.into(),
        };
        RouteTable::new(vec![
            route("GET", Some("/items/{id}"), "param"),
            route("GET", Some("/items/special"), "exact"),
            route("ANY", Some("/items/{proxy+}"), "greedy"),
            route("POST", Some("/items/{id}"), "post"),
            route("ANY", None, "default"),
        ])
    }

    #[test]
    fn exact_beats_parameter_beats_greedy() {
        let t = table();
        assert_eq!(t.find("GET", "/items/special").unwrap().function, "exact");
        let param = t.find("GET", "/items/42").unwrap();
        assert_eq!((param.function.as_str(), param.path_parameters["id"].as_str()), ("param", "42"));
        let greedy = t.find("GET", "/items/a/b").unwrap();
        assert_eq!((greedy.function.as_str(), greedy.path_parameters["proxy"].as_str()), ("greedy", "a/b"));
        assert_eq!(t.find("POST", "/items/7").unwrap().function, "post");
        assert_eq!(t.find("DELETE", "/items/7").unwrap().function, "greedy");
    }

    #[test]
    fn unmatched_paths_fall_to_default_or_nothing() {
        assert_eq!(table().find("GET", "/nope").unwrap().route_key, "$default");
        let without_default = RouteTable::new(table().routes()[..4].to_vec());
        assert_eq!(without_default.find("GET", "/nope"), None);
    }

    #[test]
    fn path_parameters_are_percent_decoded() {
        assert_eq!(table().find("GET", "/items/a%20b").unwrap().path_parameters["id"], "a b");
    }

    #[test]
    fn a_plain_value_becomes_a_200_json_response() {
        let response = response(&json!({"ok": true}), "r").unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}
