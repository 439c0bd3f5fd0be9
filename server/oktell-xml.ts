// Oktell's `oktellxmlmapper` answer of the Web-API command execsvcscript: the XML document Oktell's web server
// returns for a scenario started over HTTP (see docs/server.md, "Oktell's Web-API").

export interface ExecSvcAnswer {
  started: boolean;
  /** 0 completed, 1 failed, 2 still running (sync wait timed out), -1 not started. Our choice: what Oktell itself
   *  reports for each outcome is not documented. */
  startResult: number;
  returnValue: string;
  runId?: string;
}

/** What XML 1.0 does not allow anywhere (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF). */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text made safe for an XML 1.0 document: each character XML forbids becomes U+FFFD, so parsers accept the answer. */
export function xmlSafe(text: string): string {
  return text.replace(NOT_XML_CHAR, '\uFFFD');
}

export function execSvcScriptXml(a: ExecSvcAnswer): string {
  const cdata = xmlSafe(a.returnValue).replaceAll(']]>', ']]]]><![CDATA[>');
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<oktellxmlmapper version="80710">',
    '  <data name="result" count="1">',
    '    <property_set name="execsvcscript">',
    `      <property_simple key="started" value="${a.started ? 1 : 0}" name="${a.started ? 'success' : 'error'}" />`,
    `      <property_simple key="startresult" value="${a.startResult}" name="${startResultName(a.startResult)}" />`,
    `      <property_cdata key="returnvalue"><![CDATA[${cdata}]]></property_cdata>`,
    ...(a.runId ? [`      <property_simple key="runid" value="${a.runId.replace(/[^\w-]/g, '')}" name="runid" />`] : []),
    '    </property_set>',
    '  </data>',
    '</oktellxmlmapper>',
    '',
  ].join('\n');
}

function startResultName(n: number): string {
  return n === 0 ? 'success' : n === 1 ? 'failed' : n === 2 ? 'running' : 'notstarted';
}
