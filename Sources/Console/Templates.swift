import Mustache

/// The console's pages. Every `{{value}}` is HTML-escaped by Mustache;
/// nothing from data is ever put in a script, a style or an unquoted
/// attribute, and links carry percent-encoded names (``Console/percentEncoded(_:)``).
enum Templates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [
            ("layout", layout), ("overview", overview), ("topic", topic), ("messages", messages), ("group", group),
            ("connector", connector), ("error", error),
        ] {
            // The templates are constants: a parse error is a bug caught by every test.
            try! library.register(text, named: name)
        }
        return library
    }()

    static let layout = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Tributary</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
        nav { background: #1d2330; padding: 10px 24px; }
        nav a { color: #fff; text-decoration: none; margin-right: 18px; font-weight: 600; }
        main { padding: 16px 24px 40px; }
        h1 { font-size: 20px; margin: 8px 0 16px; word-break: break-all; }
        h2 { font-size: 16px; margin: 24px 0 8px; }
        table { border-collapse: collapse; background: #fff; margin-bottom: 8px; }
        th, td { border: 1px solid #d8dce3; padding: 4px 10px; text-align: left; vertical-align: top; }
        th { background: #eef0f4; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        pre { margin: 0; white-space: pre-wrap; word-break: break-all; max-width: 70em; font-size: 12px; }
        .note { color: #6b7280; }
        .tag { background: #fde68a; border-radius: 4px; padding: 0 6px; font-size: 12px; }
        .kind { color: #6b7280; font-size: 11px; }
        .state-RUNNING { color: #047857; font-weight: 600; }
        .state-FAILED { color: #b91c1c; font-weight: 600; }
        .state-PAUSED, .state-STOPPED { color: #92400e; font-weight: 600; }
        form.filters { background: #fff; border: 1px solid #d8dce3; padding: 8px; display: inline-block; margin-bottom: 12px; }
        form.filters label { margin-right: 10px; }
        button { margin-right: 8px; }
        .errors th { background: #fee2e2; }
        </style>
        </head>
        <body>
        <nav><a href="/ui">Tributary console</a><a href="/ui#topics">Topics</a><a href="/ui#groups">Consumer groups</a>{{#hasConnectors}}<a href="/ui#connectors">Connectors</a>{{/hasConnectors}}</nav>
        <main>
        <h1 id="title">{{title}}</h1>
        {{$content}}{{/content}}
        </main>
        </body>
        </html>
        """

    static let overview = """
        {{<layout}}{{$content}}
        <section id="brokers"><h2>Brokers</h2>
        <table><tr><th>id</th><th>host</th><th>port</th></tr>
        {{#brokers}}<tr><td class="num">{{id}}</td><td>{{host}}</td><td class="num">{{port}}</td></tr>{{/brokers}}
        </table></section>
        <section id="topics"><h2>Topics</h2>
        <table><tr><th>topic</th><th>partitions</th><th>records</th></tr>
        {{#topics}}<tr><td><a href="/ui/topics/{{url}}">{{name}}</a>{{#deadLetters}} <span class="tag">dead letters</span>{{/deadLetters}}</td><td class="num">{{partitions}}</td><td class="num">{{records}}</td></tr>{{/topics}}
        </table>{{^topics}}<p class="note">No topics.</p>{{/topics}}</section>
        <section id="groups"><h2>Consumer groups</h2>
        {{#groupsNote}}<p class="note">{{groupsNote}}</p>{{/groupsNote}}
        <table><tr><th>group</th><th>state</th><th>members</th><th>total lag</th></tr>
        {{#groups}}<tr><td><a href="/ui/groups/{{url}}">{{name}}</a></td><td>{{state}}</td><td class="num">{{members}}</td><td class="num">{{lag}}</td></tr>{{/groups}}
        </table></section>
        {{#hasConnectors}}<section id="connectors"><h2>Connectors</h2>
        <table><tr><th>connector</th><th>type</th><th>state</th></tr>
        {{#connectors}}<tr><td><a href="/ui/connectors/{{url}}">{{name}}</a></td><td>{{type}}</td><td class="state-{{state}}">{{state}}</td></tr>{{/connectors}}
        </table></section>{{/hasConnectors}}
        {{/content}}{{/layout}}
        """

    static let topic = """
        {{<layout}}{{$content}}
        <p><a id="browse" href="/ui/topics/{{url}}/messages">Browse messages</a> (newest first page)</p>
        <section id="partitions"><h2>Partitions</h2>
        <table><tr><th>partition</th><th>leader</th><th>low watermark</th><th>high watermark</th><th>records</th><th></th></tr>
        {{#partitions}}<tr><td class="num">{{partition}}</td><td class="num">{{leader}}</td><td class="num">{{low}}</td><td class="num">{{high}}</td><td class="num">{{records}}</td><td><a href="/ui/topics/{{url}}/messages?partition={{partition}}">messages</a></td></tr>{{/partitions}}
        </table></section>
        <section id="readers"><h2>Consumer groups reading it</h2>
        {{#groups}}<h3><a href="/ui/groups/{{url}}">{{name}}</a>: lag {{total}}</h3>
        <table><tr><th>partition</th><th>committed</th><th>high watermark</th><th>lag</th></tr>
        {{#partitions}}<tr><td class="num">{{partition}}</td><td class="num">{{committed}}</td><td class="num">{{high}}</td><td class="num">{{lag}}</td></tr>{{/partitions}}
        </table>{{/groups}}{{^groups}}<p class="note">No known group has committed offsets in this topic.</p>{{/groups}}
        </section>
        {{/content}}{{/layout}}
        """

    static let messages = """
        {{<layout}}{{$content}}
        <form class="filters" method="get" action="/ui/topics/{{url}}/messages">
        <label>partition <select name="partition">{{#partitionChoices}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/partitionChoices}}</select></label>
        <label>from offset <input name="offset" value="{{offsetField}}" size="10" placeholder="newest"></label>
        <label>count <input name="count" value="{{count}}" size="4"></label>
        <label>key <input name="key" value="{{keyFilter}}" size="12"></label>
        <label>containing <input name="contains" value="{{containsFilter}}" size="12"></label>
        <button type="submit">Show</button>
        </form>
        <p id="range">Partition {{partition}}: offsets {{from}} to {{to}} of {{low}}–{{high}}; {{shown}} shown{{#filtered}} after the filters{{/filtered}}.
        {{#olderURL}}<a id="older" href="{{olderURL}}">older</a>{{/olderURL}} {{#newerURL}}<a id="newer" href="{{newerURL}}">newer</a>{{/newerURL}}</p>
        <table id="messages"><tr><th>offset</th><th>timestamp</th><th>key</th><th>headers</th><th>value</th></tr>
        {{#rows}}<tr class="message">
        <td class="num">{{offset}}</td><td>{{timestamp}}</td>
        <td><span class="kind">{{key.kind}}</span><pre class="key">{{key.text}}</pre></td>
        <td>{{#hasErrorHeaders}}<table class="errors"><tr><th colspan="2">dead letter: __connect.errors.*</th></tr>{{#errorHeaders}}<tr><td>{{name}}</td><td><pre>{{value}}</pre></td></tr>{{/errorHeaders}}</table>{{/hasErrorHeaders}}
        {{#headers}}<div><b>{{name}}</b>: <pre class="header">{{value.text}}</pre></div>{{/headers}}</td>
        <td><span class="kind">{{value.kind}}</span>{{#value.schema}}<details><summary>schema</summary><pre class="schema">{{value.schema}}</pre></details>{{/value.schema}}<pre class="value">{{value.text}}</pre></td>
        </tr>{{/rows}}
        </table>
        {{/content}}{{/layout}}
        """

    static let group = """
        {{<layout}}{{$content}}
        {{#state}}<p>State {{state}}, protocol {{protocolName}}.</p>{{/state}}
        <section id="members"><h2>Members</h2>
        {{#membersNote}}<p class="note">{{membersNote}}</p>{{/membersNote}}
        <table><tr><th>member</th><th>client</th><th>host</th><th>assignment</th></tr>
        {{#members}}<tr><td>{{memberID}}</td><td>{{clientID}}</td><td>{{clientHost}}</td><td>{{assignment}}</td></tr>{{/members}}
        </table></section>
        <section id="offsets"><h2>Committed offsets and lag</h2>
        {{#topics}}<h3><a href="/ui/topics/{{url}}">{{name}}</a>: lag {{total}}</h3>
        <table><tr><th>partition</th><th>committed</th><th>high watermark</th><th>lag</th></tr>
        {{#partitions}}<tr><td class="num">{{partition}}</td><td class="num">{{committed}}</td><td class="num">{{high}}</td><td class="num">{{lag}}</td></tr>{{/partitions}}
        </table>{{/topics}}{{^topics}}<p class="note">No committed offsets.</p>{{/topics}}
        </section>
        {{/content}}{{/layout}}
        """

    static let connector = """
        {{<layout}}{{$content}}
        <section id="connector" data-name="{{name}}">
        <p>Type {{type}}; state <span id="state" class="state-{{state}}">{{state}}</span>.</p>
        <p><button data-action="pause">Pause</button><button data-action="resume">Resume</button><button data-action="restart">Restart</button><span id="result"></span></p>
        <h2>Tasks</h2>
        <table><tr><th>task</th><th>state</th></tr>{{#tasks}}<tr><td class="num">{{id}}</td><td class="state-{{state}}">{{state}}</td></tr>{{/tasks}}</table>
        {{#trace}}<h2>Last error</h2><pre id="trace">{{trace}}</pre>{{/trace}}
        {{#groupURL}}<p>Consumer group: <a href="/ui/groups/{{groupURL}}">{{groupID}}</a></p>{{/groupURL}}
        <h2>Config</h2>
        <table id="config"><tr><th>key</th><th>value</th></tr>{{#config}}<tr><td>{{key}}</td><td><pre>{{value}}</pre></td></tr>{{/config}}</table>
        </section>
        <script>
        // The buttons call the REST API of this worker; the connector's name
        // comes from a data attribute, never from script text.
        document.querySelectorAll("button[data-action]").forEach(function (button) {
          button.addEventListener("click", function () {
            var name = document.getElementById("connector").dataset.name;
            var action = button.dataset.action;
            var restart = action === "restart";
            var url = "/connectors/" + encodeURIComponent(name) + "/" + action + (restart ? "?includeTasks=true" : "");
            fetch(url, { method: restart ? "POST" : "PUT", credentials: "same-origin" }).then(function (response) {
              document.getElementById("result").textContent = action + ": HTTP " + response.status;
              setTimeout(function () { location.reload(); }, 1000);
            });
          });
        });
        </script>
        {{/content}}{{/layout}}
        """

    static let error = """
        {{<layout}}{{$content}}
        <p id="error">{{message}}</p>
        <p><a href="/ui">Back to the overview</a></p>
        {{/content}}{{/layout}}
        """
}
