//! The RPCs that the Admin API (on the instance) and the Management API (on
//! the context org) both serve: a login policy's factor lists and the
//! members. Their handlers differ only in scope and message names, so each
//! handler's body is one `scoped_rpc!` naming its scope.

/// The body of a scoped handler. `$req` is the handler's request; item
/// names resolve where the macro is used, so `$Resp` and the factor
/// responses are that API's own messages.
macro_rules! scoped_rpc {
    (add_second_factor: $app:expr, $req:ident, $scope:expr) => {
        scoped_rpc!(@factor $app, $req, $scope, AddSecondFactorToLoginPolicyRequest,
            AddSecondFactorToLoginPolicyResponse, second_factor, AddSecond, added)
    };
    (remove_second_factor: $app:expr, $req:ident, $scope:expr) => {
        scoped_rpc!(@factor $app, $req, $scope, RemoveSecondFactorFromLoginPolicyRequest,
            RemoveSecondFactorFromLoginPolicyResponse, second_factor, RemoveSecond, changed)
    };
    (add_multi_factor: $app:expr, $req:ident, $scope:expr) => {
        scoped_rpc!(@factor $app, $req, $scope, AddMultiFactorToLoginPolicyRequest,
            AddMultiFactorToLoginPolicyResponse, multi_factor, AddMulti, added)
    };
    (remove_multi_factor: $app:expr, $req:ident, $scope:expr) => {
        scoped_rpc!(@factor $app, $req, $scope, RemoveMultiFactorFromLoginPolicyRequest,
            RemoveMultiFactorFromLoginPolicyResponse, multi_factor, RemoveMulti, changed)
    };
    (@factor $app:expr, $req:ident, $scope:expr, $Req:ident, $Resp:ident, $validate:ident, $change:ident,
        $details:ident) => {{
        let ctx = $crate::auth::ctx(&$req)?;
        let f = $crate::validate::$validate(stringify!($Req), $req.get_ref().r#type)?;
        let d = $app
            .change_factor(
                &ctx,
                $scope,
                twofold_app::login_policy::FactorChange::$change(f),
                $crate::policy_preview::force(&$req),
            )
            .await
            .map_err($crate::error::to_status)?;
        Ok(tonic::Response::new($Resp {
            details: $crate::convert::$details(d),
        }))
    }};
    // `$sort` is evaluated after the queries are read, as the messages order their fields.
    (list_members: $app:expr, $req:ident, $scope:expr, $message:literal, $Resp:ident, $sort:expr) => {{
        let ctx = $crate::auth::ctx(&$req)?;
        let r = $req.get_ref();
        let filters = $crate::queries::members($message, &r.queries)?;
        let sort = $sort;
        let list = $crate::queries::list_v1(r.query.as_ref())?;
        let (total, members) = $app
            .list_members(&ctx, $scope, &filters, sort, list)
            .await
            .map_err($crate::error::to_status)?;
        Ok(tonic::Response::new($Resp {
            details: $crate::convert::list(total),
            result: members.into_iter().map($crate::convert::member).collect(),
        }))
    }};
    (add_member: $app:expr, $req:ident, $scope:expr, $message:literal, $Resp:ident) => {{
        let ctx = $crate::auth::ctx(&$req)?;
        let r = $req.get_ref();
        let user_id = twofold_domain::UserId::from($crate::validate::id($message, "UserId", &r.user_id)?);
        let d = $app
            .add_member(&ctx, $scope, &user_id, r.roles.clone())
            .await
            .map_err($crate::error::to_status)?;
        Ok(tonic::Response::new($Resp {
            details: $crate::convert::added(d),
        }))
    }};
    (change_member: $app:expr, $req:ident, $scope:expr, $message:literal, $Resp:ident) => {{
        let ctx = $crate::auth::ctx(&$req)?;
        let r = $req.get_ref();
        let user_id = twofold_domain::UserId::from($crate::validate::id($message, "UserId", &r.user_id)?);
        let d = $app
            .change_member(&ctx, $scope, &user_id, r.roles.clone())
            .await
            .map_err($crate::error::to_status)?;
        Ok(tonic::Response::new($Resp {
            details: $crate::convert::changed(d),
        }))
    }};
    (remove_member: $app:expr, $req:ident, $scope:expr, $message:literal, $Resp:ident) => {{
        let ctx = $crate::auth::ctx(&$req)?;
        let user_id = twofold_domain::UserId::from($crate::validate::id($message, "UserId", &$req.get_ref().user_id)?);
        let d = $app
            .remove_member(&ctx, $scope, &user_id)
            .await
            .map_err($crate::error::to_status)?;
        Ok(tonic::Response::new($Resp {
            details: $crate::convert::changed(d),
        }))
    }};
}
