-- rmtkit.lua: rmtkit's findings in Wireshark, from the packet comments `rmt-inspect -w FILE`
-- writes ("rmt: ID SEVERITY RULE: DETAIL"; no sidecar file). Each finding becomes a tree item
-- with filterable fields (rmt.finding.id, rmt.finding.severity, rmt.finding.rfc,
-- rmt.finding.detail) and an Expert Info entry of the finding's severity.
--
-- Install: copy this file into Wireshark's personal Lua plugins folder (Help > About Wireshark >
-- Folders > Personal Lua Plugins; on Linux ~/.local/lib/wireshark/plugins/), or load it for
-- one run: `wireshark -X lua_script:rmtkit.lua out.pcapng`,
-- `tshark -X lua_script:rmtkit.lua -r out.pcapng -Y 'rmt.finding.severity == "error"'`.

local rmt = Proto("rmt", "rmtkit findings")

local f_id = ProtoField.string("rmt.finding.id", "Finding")
local f_severity = ProtoField.string("rmt.finding.severity", "Severity")
local f_rfc = ProtoField.string("rmt.finding.rfc", "Rule")
local f_detail = ProtoField.string("rmt.finding.detail", "Detail")
rmt.fields = { f_id, f_severity, f_rfc, f_detail }

-- One Expert Info entry per severity, as rmtkit grades them (error, warning, info).
local experts = {
    error = ProtoExpert.new("rmt.finding.error", "rmtkit finding (error)",
        expert.group.PROTOCOL, expert.severity.ERROR),
    warning = ProtoExpert.new("rmt.finding.warning", "rmtkit finding (warning)",
        expert.group.PROTOCOL, expert.severity.WARN),
    info = ProtoExpert.new("rmt.finding.info", "rmtkit finding (info)",
        expert.group.PROTOCOL, expert.severity.NOTE),
}
rmt.experts = { experts.error, experts.warning, experts.info }

local frame_comment = Field.new("frame.comment")

-- "rmt: ID SEVERITY RULE: DETAIL" -> id, severity, rule, detail (a rule has no colon).
local function parse(text)
    local body = text:match("^rmt: (.*)$")
    if not body then
        return nil
    end
    local id, severity, rest = body:match("^(%S+) (%S+) (.*)$")
    if not id then
        return nil
    end
    local rule, detail = rest:match("^(.-): (.*)$")
    if not rule then
        rule, detail = rest, ""
    end
    return id, severity, rule, detail
end

function rmt.dissector(tvb, pinfo, tree)
    local findings
    for _, c in ipairs({ frame_comment() }) do
        local id, severity, rule, detail = parse(tostring(c.value))
        if id then
            findings = findings or tree:add(rmt)
            local item = findings:add(f_id, id)
            item:append_text(" (" .. severity .. ", " .. rule .. ")")
            item:add(f_severity, severity)
            item:add(f_rfc, rule)
            item:add(f_detail, detail)
            local e = experts[severity] or experts.info
            item:add_proto_expert_info(e, id .. ": " .. detail .. " (" .. rule .. ")")
        end
    end
end

register_postdissector(rmt)
