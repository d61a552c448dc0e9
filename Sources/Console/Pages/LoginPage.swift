/// 登录 Log in, and the pages that say no (403, 404, 400).
enum LoginPage {
    static func render(formToken: String, message: String? = nil) -> HTML {
        let error: HTML = message.map { "<p class=\"notice\" role=\"alert\">\($0)</p>" } ?? ""
        let body: HTML = """
            <div class="login">
            \(error)
            <form method="post" action="/login">
              <input type="hidden" name="form" value="\(formToken)">
              <label>登录名 Login <input name="login" autocomplete="username" required autofocus maxlength="40"></label>
              <label>密码 Password <input name="password" type="password" autocomplete="current-password" required maxlength="200"></label>
              <button type="submit" id="log-in">登录 Log in</button>
            </form>
            <p class="muted">账户由数据库管理员创建 Accounts are made by the DBA: <code>timebank console accounts add</code></p>
            </div>
            """
        return Layout.page(title: "登录 Log in", section: "", viewer: nil, body)
    }

    static func refusal(status: Int, title: String, reason: String, viewer: Viewer?, back: String = "/") -> HTML {
        Layout.page(title: "\(status) \(title)", section: "", viewer: viewer,
                    "<p class=\"notice\" role=\"alert\" id=\"refusal\">\(reason)</p><p><a href=\"\(back)\">返回 Back</a></p>")
    }
}
