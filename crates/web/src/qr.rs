//! The QR code of an `otpauth://` URI, as an SVG data URI for an `<img>`
//! (no inline markup or style the CSP would have to allow).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use qrcode::QrCode;
use qrcode::render::svg;

/// None only for a URI too long for any QR code.
pub fn data_uri(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(format!("data:image/svg+xml;base64,{}", STANDARD.encode(image)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_svg_data_uri() {
        let uri = super::data_uri("otpauth://totp/Twofold:alice?secret=JBSWY3DPEHPK3PXP&issuer=Twofold").unwrap();
        assert!(uri.starts_with("data:image/svg+xml;base64,"));
    }
}
