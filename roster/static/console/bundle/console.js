// Built from roster/static/console/ by scripts/build-console (rollup 4.69.3): do not
// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)
// are part of it: their licences are in roster/static/console/vendor/.
var e,n$1,_,t$1,o,r,l={},i=[],c=/acit|ex(?:s|g|n|p|$)|rph|grid|ows|mnc|ntw|ine[ch]|zoo|^ord|itera/i;function s(e,n){for(var _ in n)e[_]=n[_];return e}function f(e){var n=e.parentNode;n&&n.removeChild(e);}function a(n,_,t){var o,r,u,l={};for(u in _)"key"==u?o=_[u]:"ref"==u?r=_[u]:l[u]=_[u];if(arguments.length>2&&(l.children=arguments.length>3?e.call(arguments,2):t),"function"==typeof n&&null!=n.defaultProps)for(u in n.defaultProps) void 0===l[u]&&(l[u]=n.defaultProps[u]);return p(n,l,o,r,null)}function p(e,t,o,r,u){var l={type:e,props:t,key:o,ref:r,__k:null,__:null,__b:0,__e:null,__d:void 0,__c:null,__h:null,constructor:void 0,__v:null==u?++_:u};return null!=n$1.vnode&&n$1.vnode(l),l}function h(e){return e.children}function d(e,n){this.props=e,this.context=n;}function v(e,n){if(null==n)return e.__?v(e.__,e.__.__k.indexOf(e)+1):null;for(var _;n<e.__k.length;n++)if(null!=(_=e.__k[n])&&null!=_.__e)return _.__e;return "function"==typeof e.type?v(e):null}function y(e){var n,_;if(null!=(e=e.__)&&null!=e.__c){for(e.__e=e.__c.base=null,n=0;n<e.__k.length;n++)if(null!=(_=e.__k[n])&&null!=_.__e){e.__e=e.__c.base=_.__e;break}return y(e)}}function m(e){(!e.__d&&(e.__d=true)&&t$1.push(e)&&!g.__r++||r!==n$1.debounceRendering)&&((r=n$1.debounceRendering)||o)(g);}function g(){for(var e;g.__r=t$1.length;)e=t$1.sort(function(e,n){return e.__v.__b-n.__v.__b}),t$1=[],e.some(function(e){var n,_,t,o,r,u;e.__d&&(r=(o=(n=e).__v).__e,(u=n.__P)&&(_=[],(t=s({},o)).__v=o.__v+1,P(u,o,t,n.__n,void 0!==u.ownerSVGElement,null!=o.__h?[r]:null,_,null==r?v(o):r,o.__h),D(_,o),o.__e!=r&&y(o)));});}function k(e,n,_,t,o,r,u,c,s,f){var a,d,y,m,g,k,x,H=t&&t.__k||i,E=H.length;for(_.__k=[],a=0;a<n.length;a++)if(null!=(m=_.__k[a]=null==(m=n[a])||"boolean"==typeof m?null:"string"==typeof m||"number"==typeof m||"bigint"==typeof m?p(null,m,null,null,m):Array.isArray(m)?p(h,{children:m},null,null,null):m.__b>0?p(m.type,m.props,m.key,null,m.__v):m)){if(m.__=_,m.__b=_.__b+1,null===(y=H[a])||y&&m.key==y.key&&m.type===y.type)H[a]=void 0;else for(d=0;d<E;d++){if((y=H[d])&&m.key==y.key&&m.type===y.type){H[d]=void 0;break}y=null;}P(e,m,y=y||l,o,r,u,c,s,f),g=m.__e,(d=m.ref)&&y.ref!=d&&(x||(x=[]),y.ref&&x.push(y.ref,null,m),x.push(d,m.__c||g,m)),null!=g?(null==k&&(k=g),"function"==typeof m.type&&null!=m.__k&&m.__k===y.__k?m.__d=s=b(m,s,e):s=C(e,m,y,H,g,s),f||"option"!==_.type?"function"==typeof _.type&&(_.__d=s):e.value=""):s&&y.__e==s&&s.parentNode!=e&&(s=v(y));}for(_.__e=k,a=E;a--;)null!=H[a]&&("function"==typeof _.type&&null!=H[a].__e&&H[a].__e==_.__d&&(_.__d=v(t,a+1)),U(H[a],H[a]));if(x)for(a=0;a<x.length;a++)T(x[a],x[++a],x[++a]);}function b(e,n,_){var t,o;for(t=0;t<e.__k.length;t++)(o=e.__k[t])&&(o.__=e,n="function"==typeof o.type?b(o,n,_):C(_,o,o,e.__k,o.__e,n));return n}function C(e,n,_,t,o,r){var u,l,i;if(void 0!==n.__d)u=n.__d,n.__d=void 0;else if(null==_||o!=r||null==o.parentNode)e:if(null==r||r.parentNode!==e)e.appendChild(o),u=null;else {for(l=r,i=0;(l=l.nextSibling)&&i<t.length;i+=2)if(l==o)break e;e.insertBefore(o,r),u=r;}return void 0!==u?u:o.nextSibling}function x(e,n,_){"-"===n[0]?e.setProperty(n,_):e[n]=null==_?"":"number"!=typeof _||c.test(n)?_:_+"px";}function H(e,n,_,t,o){var r;e:if("style"===n)if("string"==typeof _)e.style.cssText=_;else {if("string"==typeof t&&(e.style.cssText=t=""),t)for(n in t)_&&n in _||x(e.style,n,"");if(_)for(n in _)t&&_[n]===t[n]||x(e.style,n,_[n]);}else if("o"===n[0]&&"n"===n[1])r=n!==(n=n.replace(/Capture$/,"")),n=n.toLowerCase()in e?n.toLowerCase().slice(2):n.slice(2),e.l||(e.l={}),e.l[n+r]=_,_?t||e.addEventListener(n,r?S:E,r):e.removeEventListener(n,r?S:E,r);else if("dangerouslySetInnerHTML"!==n){if(o)n=n.replace(/xlink[H:h]/,"h").replace(/sName$/,"s");else if("href"!==n&&"list"!==n&&"form"!==n&&"tabIndex"!==n&&"download"!==n&&n in e)try{e[n]=null==_?"":_;break e}catch(e){}"function"==typeof _||(null!=_&&(false!==_||"a"===n[0]&&"r"===n[1])?e.setAttribute(n,_):e.removeAttribute(n));}}function E(e){this.l[e.type+false](n$1.event?n$1.event(e):e);}function S(e){this.l[e.type+true](n$1.event?n$1.event(e):e);}function P(e,_,t,o,r,u,l,i,c){var f,a,p,v,y,m,g,b,C,x,H,E=_.type;if(void 0!==_.constructor)return null;null!=t.__h&&(c=t.__h,i=_.__e=t.__e,_.__h=null,u=[i]),(f=n$1.__b)&&f(_);try{e:if("function"==typeof E){if(b=_.props,C=(f=E.contextType)&&o[f.__c],x=f?C?C.props.value:f.__:o,t.__c?g=(a=_.__c=t.__c).__=a.__E:("prototype"in E&&E.prototype.render?_.__c=a=new E(b,x):(_.__c=a=new d(b,x),a.constructor=E,a.render=A),C&&C.sub(a),a.props=b,a.state||(a.state={}),a.context=x,a.__n=o,p=a.__d=!0,a.__h=[]),null==a.__s&&(a.__s=a.state),null!=E.getDerivedStateFromProps&&(a.__s==a.state&&(a.__s=s({},a.__s)),s(a.__s,E.getDerivedStateFromProps(b,a.__s))),v=a.props,y=a.state,p)null==E.getDerivedStateFromProps&&null!=a.componentWillMount&&a.componentWillMount(),null!=a.componentDidMount&&a.__h.push(a.componentDidMount);else {if(null==E.getDerivedStateFromProps&&b!==v&&null!=a.componentWillReceiveProps&&a.componentWillReceiveProps(b,x),!a.__e&&null!=a.shouldComponentUpdate&&!1===a.shouldComponentUpdate(b,a.__s,x)||_.__v===t.__v){a.props=b,a.state=a.__s,_.__v!==t.__v&&(a.__d=!1),a.__v=_,_.__e=t.__e,_.__k=t.__k,_.__k.forEach(function(e){e&&(e.__=_);}),a.__h.length&&l.push(a);break e}null!=a.componentWillUpdate&&a.componentWillUpdate(b,a.__s,x),null!=a.componentDidUpdate&&a.__h.push(function(){a.componentDidUpdate(v,y,m);});}a.context=x,a.props=b,a.state=a.__s,(f=n$1.__r)&&f(_),a.__d=!1,a.__v=_,a.__P=e,f=a.render(a.props,a.state,a.context),a.state=a.__s,null!=a.getChildContext&&(o=s(s({},o),a.getChildContext())),p||null==a.getSnapshotBeforeUpdate||(m=a.getSnapshotBeforeUpdate(v,y)),H=null!=f&&f.type===h&&null==f.key?f.props.children:f,k(e,Array.isArray(H)?H:[H],_,t,o,r,u,l,i,c),a.base=_.__e,_.__h=null,a.__h.length&&l.push(a),g&&(a.__E=a.__=null),a.__e=!1;}else null==u&&_.__v===t.__v?(_.__k=t.__k,_.__e=t.__e):_.__e=w(t.__e,_,t,o,r,u,l,c);(f=n$1.diffed)&&f(_);}catch(e){_.__v=null,(c||null!=u)&&(_.__e=i,_.__h=!!c,u[u.indexOf(i)]=null),n$1.__e(e,_,t);}}function D(e,_){n$1.__c&&n$1.__c(_,e),e.some(function(_){try{e=_.__h,_.__h=[],e.some(function(e){e.call(_);});}catch(e){n$1.__e(e,_.__v);}});}function w(n,_,t,o,r,u,i,c){var s,a,p,h=t.props,d=_.props,y=_.type,m=0;if("svg"===y&&(r=true),null!=u)for(;m<u.length;m++)if((s=u[m])&&(s===n||(y?s.localName==y:3==s.nodeType))){n=s,u[m]=null;break}if(null==n){if(null===y)return document.createTextNode(d);n=r?document.createElementNS("http://www.w3.org/2000/svg",y):document.createElement(y,d.is&&d),u=null,c=false;}if(null===y)h===d||c&&n.data===d||(n.data=d);else {if(u=u&&e.call(n.childNodes),a=(h=t.props||l).dangerouslySetInnerHTML,p=d.dangerouslySetInnerHTML,!c){if(null!=u)for(h={},m=0;m<n.attributes.length;m++)h[n.attributes[m].name]=n.attributes[m].value;(p||a)&&(p&&(a&&p.__html==a.__html||p.__html===n.innerHTML)||(n.innerHTML=p&&p.__html||""));}if(function(e,n,_,t,o){var r;for(r in _)"children"===r||"key"===r||r in n||H(e,r,null,_[r],t);for(r in n)o&&"function"!=typeof n[r]||"children"===r||"key"===r||"value"===r||"checked"===r||_[r]===n[r]||H(e,r,n[r],_[r],t);}(n,d,h,r,c),p)_.__k=[];else if(m=_.props.children,k(n,Array.isArray(m)?m:[m],_,t,o,r&&"foreignObject"!==y,u,i,u?u[0]:t.__k&&v(t,0),c),null!=u)for(m=u.length;m--;)null!=u[m]&&f(u[m]);c||("value"in d&&void 0!==(m=d.value)&&(m!==n.value||"progress"===y&&!m)&&H(n,"value",m,h.value,false),"checked"in d&&void 0!==(m=d.checked)&&m!==n.checked&&H(n,"checked",m,h.checked,false));}return n}function T(e,_,t){try{"function"==typeof e?e(_):e.current=_;}catch(e){n$1.__e(e,t);}}function U(e,_,t){var o,r;if(n$1.unmount&&n$1.unmount(e),(o=e.ref)&&(o.current&&o.current!==e.__e||T(o,null,_)),null!=(o=e.__c)){if(o.componentWillUnmount)try{o.componentWillUnmount();}catch(e){n$1.__e(e,_);}o.base=o.__P=null;}if(o=e.__k)for(r=0;r<o.length;r++)o[r]&&U(o[r],_,"function"!=typeof e.type);t||null==e.__e||f(e.__e),e.__e=e.__d=void 0;}function A(e,n,_){return this.constructor(e,_)}function M(_,t,o){var r,u,i;n$1.__&&n$1.__(_,t),u=(r="function"=="undefined")?null:t.__k,i=[],P(t,_=(t).__k=a(h,null,[_]),u||l,l,void 0!==t.ownerSVGElement,u?null:t.firstChild?e.call(t.childNodes):null,i,u?u.__e:t.firstChild,r),D(i,_);}e=i.slice,n$1={__e:function(e,n){for(var _,t,o;n=n.__;)if((_=n.__c)&&!_.__)try{if((t=_.constructor)&&null!=t.getDerivedStateFromError&&(_.setState(t.getDerivedStateFromError(e)),o=_.__d),null!=_.componentDidCatch&&(_.componentDidCatch(e),o=_.__d),o)return _.__E=_}catch(n){e=n;}throw e}},_=0,d.prototype.setState=function(e,n){var _;_=null!=this.__s&&this.__s!==this.state?this.__s:this.__s=s({},this.state),"function"==typeof e&&(e=e(s({},_),this.props)),e&&s(_,e),null!=e&&this.__v&&(n&&this.__h.push(n),m(this));},d.prototype.forceUpdate=function(e){this.__v&&(this.__e=true,e&&this.__h.push(e),m(this));},d.prototype.render=h,t$1=[],o="function"==typeof Promise?Promise.prototype.then.bind(Promise.resolve()):setTimeout,g.__r=0;var L,N,W,R=0,I=[],O=n$1.__b,V=n$1.__r,q=n$1.diffed,B=n$1.__c,$=n$1.unmount;function j(e,_){n$1.__h&&n$1.__h(N,e,R||_),R=0;var t=N.__H||(N.__H={__:[],__h:[]});return e>=t.__.length&&t.__.push({}),t.__[e]}function G(e){return R=1,z(ie,e)}function z(e,n,_){var t=j(L++,2);return t.t=e,t.__c||(t.__=[ie(void 0,n),function(e){var n=t.t(t.__[0],e);t.__[0]!==n&&(t.__=[n,t.__[1]],t.__c.setState({}));}],t.__c=N),t.__}function J(e,_){var t=j(L++,3);!n$1.__s&&le(t.__H,_)&&(t.__=e,t.__H=_,N.__H.__h.push(t));}function K(e,_){var t=j(L++,4);!n$1.__s&&le(t.__H,_)&&(t.__=e,t.__H=_,N.__h.push(t));}function Q(e){return R=5,Y(function(){return {current:e}},[])}function Y(e,n){var _=j(L++,7);return le(_.__H,n)&&(_.__=e(),_.__H=n,_.__h=e),_.__}function te(){I.forEach(function(e){if(e.__P)try{e.__H.__h.forEach(re),e.__H.__h.forEach(ue),e.__H.__h=[];}catch(_){e.__H.__h=[],n$1.__e(_,e.__v);}}),I=[];}n$1.__b=function(e){N=null,O&&O(e);},n$1.__r=function(e){V&&V(e),L=0;var n=(N=e.__c).__H;n&&(n.__h.forEach(re),n.__h.forEach(ue),n.__h=[]);},n$1.diffed=function(e){q&&q(e);var _=e.__c;_&&_.__H&&_.__H.__h.length&&(1!==I.push(_)&&W===n$1.requestAnimationFrame||((W=n$1.requestAnimationFrame)||function(e){var n,_=function(){clearTimeout(t),oe&&cancelAnimationFrame(n),setTimeout(e);},t=setTimeout(_,100);oe&&(n=requestAnimationFrame(_));})(te)),N=void 0;},n$1.__c=function(e,_){_.some(function(e){try{e.__h.forEach(re),e.__h=e.__h.filter(function(e){return !e.__||ue(e)});}catch(t){_.some(function(e){e.__h&&(e.__h=[]);}),_=[],n$1.__e(t,e.__v);}}),B&&B(e,_);},n$1.unmount=function(e){$&&$(e);var _=e.__c;if(_&&_.__H)try{_.__H.__.forEach(re);}catch(e){n$1.__e(e,_.__v);}};var oe="function"==typeof requestAnimationFrame;function re(e){var n=N;"function"==typeof e.__c&&e.__c(),N=n;}function ue(e){var n=N;e.__c=e.__(),N=n;}function le(e,n){return !e||e.length!==n.length||n.some(function(n,_){return n!==e[_]})}function ie(e,n){return "function"==typeof n?n(e):n}var ce=function(e,n,_,t){var o;n[0]=0;for(var r=1;r<n.length;r++){var u=n[r++],l=n[r]?(n[0]|=u?1:2,_[n[r++]]):n[++r];3===u?t[0]=l:4===u?t[1]=Object.assign(t[1]||{},l):5===u?(t[1]=t[1]||{})[n[++r]]=l:6===u?t[1][n[++r]]+=l+"":u?(o=e.apply(l,ce(e,l,_,["",null])),t.push(o),l[0]?n[0]|=2:(n[r-2]=0,n[r]=o)):t.push(l);}return t},se=new Map,fe=function(e){var n=se.get(this);return n||(n=new Map,se.set(this,n)),(n=ce(this,n.get(e)||(n.set(e,n=function(e){for(var n,_,t=1,o="",r="",u=[0],l=function(e){1===t&&(e||(o=o.replace(/^\s*\n\s*|\s*\n\s*$/g,"")))?u.push(0,e,o):3===t&&(e||o)?(u.push(3,e,o),t=2):2===t&&"..."===o&&e?u.push(4,e,0):2===t&&o&&!e?u.push(5,0,true,o):t>=5&&((o||!e&&5===t)&&(u.push(t,0,o,_),t=6),e&&(u.push(t,e,0,_),t=6)),o="";},i=0;i<e.length;i++){i&&(1===t&&l(),l(i));for(var c=0;c<e[i].length;c++)n=e[i][c],1===t?"<"===n?(l(),u=[u],t=3):o+=n:4===t?"--"===o&&">"===n?(t=1,o=""):o=n+o[0]:r?n===r?r="":o+=n:'"'===n||"'"===n?r=n:">"===n?(l(),t=1):t&&("="===n?(t=5,_=o,o=""):"/"===n&&(t<5||">"===e[i][c+1])?(l(),3===t&&(u=u[0]),t=u,(u=u[0]).push(2,0,t),t=0):" "===n||"\t"===n||"\n"===n||"\r"===n?(l(),t=2):o+=n),3===t&&"!--"===o&&(t=4,u=u[0]);}return l(),u}(e)),n),arguments,[])).length>1?n:n[0]}.bind(a);

// The console's only ways to the server: /graphql over fetch, the graphql-ws client for job
// subscriptions, and /console/session for the session itself. The cookie authenticates all of
// them (same origin), so nothing here holds a secret.

/** A GraphQL or HTTP error the page may show: `code` is the API's stable code when it gave one. */
class ApiError extends Error {
  constructor(message, code = null) {
    super(message);
    this.code = code;
  }
}

/** The session ended (signed out, revoked, expired): the app shows the signed-out page. */
class SessionEnded extends Error {}

const sessionEndedListeners = new Set();

/** Calls `listener` when any request learns the session has ended. */
function onSessionEnded(listener) {
  sessionEndedListeners.add(listener);
  return () => sessionEndedListeners.delete(listener);
}

function sessionEnded() {
  closeSubscriptions();
  for (const listener of sessionEndedListeners) listener();
  return new SessionEnded('The session has ended.');
}

async function jsonOf(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * Runs one GraphQL operation and returns its data. Throws ApiError for a GraphQL error (the
 * first one: the console sends one operation a request), SessionEnded on a 401, and the
 * fetch's AbortError when `signal` aborts it.
 */
async function gql(query, variables = {}, { signal } = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  return dataOf(response);
}

/**
 * Runs the GraphQL query at `address` (a GET of /graphql with the query and its variables in the
 * address: one the page preloaded); answers and throws as gql does. No header of its own: a
 * request the preload does not match exactly is sent again.
 */
async function gqlAt(address, { signal } = {}) {
  return dataOf(await fetch(address, { credentials: 'same-origin', signal }));
}

/**
 * Runs one GraphQL operation with files, as a GraphQL multipart request: `files` maps a
 * variable's name to its File. Answers and throws as gql does.
 */
async function gqlUpload(query, variables, files, { signal } = {}) {
  const names = Object.keys(files);
  const nulls = Object.fromEntries(names.map((name) => [name, null]));
  const map = Object.fromEntries(names.map((name, i) => [String(i), [`variables.${name}`]]));
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables: { ...variables, ...nulls } }));
  form.append('map', JSON.stringify(map));
  names.forEach((name, i) => form.append(String(i), files[name]));
  // No content-type: the browser writes the multipart boundary into it.
  const response = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { accept: 'application/graphql-response+json, application/json' },
    body: form,
    signal,
  });
  return dataOf(response);
}

async function dataOf(response) {
  if (response.status === 401) throw sessionEnded();
  const body = await jsonOf(response);
  if (body === null) throw new ApiError(`HTTP ${response.status}`, `HTTP_${response.status}`);
  if (body.error) throw new ApiError(body.error.message, body.error.code);
  if (body.errors?.length) {
    const [first] = body.errors;
    if (first.extensions?.code === 'UNAUTHENTICATED') throw sessionEnded();
    throw new ApiError(first.message, first.extensions?.code ?? null);
  }
  return body.data;
}

// --- Session ---------------------------------------------------------------------------------

/** The current session ({tenant, scope, expiresAt}), or null when not signed in. */
async function currentSession() {
  const response = await fetch('/console/session', { credentials: 'same-origin' });
  if (response.status === 401) return null;
  if (!response.ok) throw new ApiError(`HTTP ${response.status}`, `HTTP_${response.status}`);
  return response.json();
}

/**
 * Trades a sign-in link's secret for a session cookie. Returns {session} on success, or
 * {error: code} (LINK_USED, LINK_EXPIRED, LINK_UNKNOWN, or another code).
 */
async function signIn(secret) {
  const response = await fetch('/console/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ link: secret }),
  });
  const body = await jsonOf(response);
  if (response.status === 201 || response.status === 200) return { session: body };
  return { error: body?.error?.code ?? `HTTP_${response.status}` };
}

/** Ends the session on the server (the cookie goes with it). */
async function signOut() {
  closeSubscriptions();
  await fetch('/console/session', { method: 'DELETE', credentials: 'same-origin' });
}

// --- Subscriptions ---------------------------------------------------------------------------

// Made on the first subscription, so that a page that follows no job opens no WebSocket; the
// client's module is loaded then too (or when the page is idle: preloadSubscriptions), not on
// the first list's path.
let wsClient = null;
// The server closes with 4401 when the session is revoked or expires.
const UNAUTHORIZED_CLOSE = 4401;

function loadClient() {
  return import('./client.js');
}

/** Fetches the subscription client's module ahead of its first use. */
function preloadSubscriptions() {
  loadClient().catch(() => {});
}

/** The graphql-ws client (a promise of it); a failed load is tried again by the next caller. */
function subscriptions() {
  if (wsClient === null) {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const client = loadClient().then(({ createClient }) =>
      createClient({
        url: `${scheme}://${location.host}/graphql`,
        connectionParams: {},
        retryAttempts: 2,
        shouldRetry: (event) => event?.code !== UNAUTHORIZED_CLOSE,
        on: {
          closed: (event) => {
            if (event?.code === UNAUTHORIZED_CLOSE) sessionEnded();
          },
        },
      }),
    );
    client.catch(() => {
      if (wsClient === client) wsClient = null;
    });
    wsClient = client;
  }
  return wsClient;
}

function closeSubscriptions() {
  if (wsClient !== null) {
    const client = wsClient;
    wsClient = null;
    client.then((c) => c.dispose()).catch(() => {});
  }
}

const JOB_FIELDS = `
  id status total processed error
  ... on ExportJob { rowCount downloadUrl }
  ... on EmailJob { sent failed skipped }
`;
const jobSubscription = (fields) => `subscription FollowJob($id: ID!) { job(id: $id) { ${fields} } }`;
const jobQuery = (fields) => `query Job($id: ID!) { job(id: $id) { ${fields} } }`;
const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const POLL_MS$1 = 1000;

function aborted() {
  return new DOMException('The job is no longer followed.', 'AbortError');
}

/**
 * Follows a job until it ends: `onUpdate(job)` on each change; resolves with the last state.
 * Uses the `job` subscription, and polls `job(id:)` if the WebSocket cannot be used. `fields`
 * is the selection on Job each update holds (a screen that shows counts asks for them).
 */
function followJob(id, onUpdate = () => {}, { signal, fields = JOB_FIELDS } = {}) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (job) => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(job);
    };
    const fail = (error) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(error);
    };
    let unsubscribe = () => {};
    let timer = null;
    const cleanup = () => {
      unsubscribe();
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => fail(aborted());
    signal?.addEventListener('abort', onAbort);
    const seen = (job) => {
      if (job === null) return fail(new ApiError('The job is gone.', 'NOT_FOUND'));
      onUpdate(job);
      if (FINISHED.has(job.status)) finish(job);
    };
    const poll = async () => {
      try {
        seen((await gql(jobQuery(fields), { id }, { signal })).job);
      } catch (error) {
        return fail(error);
      }
      if (!settled) timer = setTimeout(poll, POLL_MS$1);
    };
    const follow = (client) => {
      if (settled) return;
      unsubscribe = client.subscribe(
        { query: jobSubscription(fields), variables: { id } },
        {
          next: (result) => {
            if (result.errors?.length) {
              const [first] = result.errors;
              return fail(new ApiError(first.message, first.extensions?.code ?? null));
            }
            seen(result.data.job);
          },
          error: (event) => {
            // The socket failed (a proxy without WebSockets, a restart): poll instead, unless
            // the session ended, which the `closed` handler has reported.
            if (settled) return;
            if (event?.code === UNAUTHORIZED_CLOSE) return fail(new SessionEnded('The session has ended.'));
            unsubscribe = () => {};
            poll();
          },
          // The subscription ends after the job does; ending before means the server stopped
          // following it (a restart): ask for its state instead.
          complete: () => {
            if (!settled) poll();
          },
        },
      );
    };
    // The client's module could not be loaded: polling needs none.
    subscriptions().then(follow, () => {
      if (!settled) poll();
    });
  });
}

// English for Apps (platforms, webhooks, deliveries), the Audit log and the navigation
// (i18n-en.js takes these in). The accessible names tests rely on ("Rotate secret", "Send test",
// "Redeliver", the navigation's links) are the issue's: keep them.
const EN_APPS = () => ({
  navImports: 'Imports',
  navJobs: 'Jobs',
  navApps: 'Apps',
  navAudit: 'Audit log',
  loadFailed: 'This screen could not be loaded',

  // Apps
  appsHeading: 'Apps',
  appsIntro:
    'The platforms and external apps the organisation’s users have roles on. Roster tells each app of changes to its users through its webhook.',
  appsCaption: 'Apps',
  addApp: 'Add an app',
  addAppHeading: 'Add an external app',
  appNameField: 'Name',
  appKey: 'Key',
  appKeyHint: 'Names the app in CSV files and in the API, e.g. crm.',
  appKind: 'Kind',
  appAliases: 'Other names in CSV files',
  appRoles: 'Roles',
  appRolesHint: 'Separated by commas, e.g. student, teacher.',
  createApp: 'Create app',
  appNotCreated: 'The app was not added:',
  appCreated: (name) => `${name} added.`,
  appCreatedWithSecret: (name) => `${name} added. Its webhook secret is below, shown this once.`,
  kindLearningCloud: 'LearningCloud',
  kindContentCloud: 'ContentCloud',
  kindExternalApp: 'External app',
  appHeading: 'App',
  noSuchApp: 'No such app',
  backToApps: '← All apps',
  webhookHeading: 'Webhook',
  webhookUrl: 'Webhook URL',
  webhookUrlHint: 'Where Roster sends the app each change to its users. Empty: no webhook.',
  webhookBatchSize: 'Events a request',
  webhookBatchSizeHint: '1 sends each event alone; up to 100 sends them in arrays.',
  noWebhookUrl: 'No webhook',
  webhookStoppedBadge: 'Stopped',
  webhookStopped: (when, reason) =>
    `Deliveries stopped on ${when}: the app answered that the webhook is gone${reason ? ` (${reason})` : ''}. Saving the webhook URL again resumes them.`,
  appSaved: 'Changes saved.',
  appNotSaved: 'Nothing was saved:',

  // The signing secret
  secretHeading: 'Signing secret',
  secretExplained: 'Each delivery is signed with the app’s secret, so that the app can tell it comes from Roster.',
  rotateSecret: 'Rotate secret',
  rotateTitle: 'Rotate the signing secret?',
  rotateExplained:
    'Roster makes a new secret and shows it once. For 24 hours deliveries are signed with both the new and the old one: time to put the new one in the app.',
  rotateNow: 'Rotate now',
  secretNotRotated: 'The secret was not changed:',
  newSecretHeading: 'New signing secret',
  secretShownOnce:
    'Shown this once: copy it now and put it in the app, which checks each delivery’s signature with it. Roster cannot show it again.',
  webhookSecret: 'Webhook secret',
  copy: 'Copy',
  secretCopied: 'Copied.',
  secretCopyByHand: 'The browser did not let the page copy it: it is selected, press Ctrl+C (⌘C on a Mac).',
  oldSecretUntil: (when) => `The old secret keeps working until ${when}: until then deliveries are signed with both.`,

  // Deliveries
  deliveriesHeading: 'Deliveries',
  deliveriesCaption: 'Webhook deliveries, newest first',
  deliveryStatusFilter: 'Delivery status',
  'deliveryStatus:PENDING': 'Pending',
  'deliveryStatus:SUCCEEDED': 'Delivered',
  'deliveryStatus:FAILED': 'Failed',
  colEvent: 'Event',
  colAttempts: 'Attempts',
  colLastAnswer: 'Last answer',
  colLastAttempt: 'Last attempt',
  colActions: 'Actions',
  noDeliveries: 'No deliveries.',
  notTriedYet: 'Not tried yet',
  deliveryPages: 'Pages of deliveries',
  sendTest: 'Send test',
  testQueued: 'Test webhook queued: it shows below.',
  redeliver: 'Redeliver',
  redelivered: (eventType) => `${eventType} queued to be delivered again.`,

  // Audit log
  auditLogHeading: 'Audit log',
  auditLogCaption: 'Audit events, newest first',
  auditFilters: 'Filters',
  filterUser: 'User (username)',
  filterEventKind: 'Kind of event',
  anyEvent: 'Any event',
  filterSince: 'From',
  filterUntil: 'Until',
  noUserNamed: (name) => `No user has the username “${name}”.`,
  colTarget: 'On',
  deletedUser: 'A deleted user',
  targetPlatform: 'An app',
  targetToken: 'An API token',
  targetConsoleLink: 'A sign-in link',
  'action:platform.created': 'App added',
  'action:platform.updated': 'App changed',
  'action:platform.deleted': 'App deleted',
  'action:import.started': 'Import started',
  'action:export.started': 'Export started',
  'action:export.downloaded': 'Export downloaded',
  'action:job.cancel_requested': 'Job cancelled',
  'action:token.created': 'API token created',
  'action:console.link_created': 'Sign-in link created',
  'action:console.signed_in': 'Signed in to the console',
  'action:console.signed_out': 'Signed out of the console',
});

// English for the long work: Import, Jobs and Export (i18n-en.js takes these in). The accessible
// names tests rely on ("CSV file", "Dry run", "Import", "Apply this plan", "Download errors")
// are the issue's: keep them.
const plural$1 = (count, one, other) => (count === 1 ? one : other);

const EN_JOBS = ({ n }) => ({
  // Jobs in general
  kindImport: 'Import',
  kindDryRun: 'Dry run',
  kindExport: 'Export',
  kindEmail: 'Welcome e-mails',
  startedByConsole: 'the console',
  'jobStatus:QUEUED': 'Queued',
  'jobStatus:RUNNING': 'Running',
  'jobStatus:SUCCEEDED': 'Succeeded',
  'jobStatus:FAILED': 'Failed',
  'jobStatus:CANCELLED': 'Cancelled',
  rowsSoFar: (done) => `${done} rows so far`,
  rowsOf: (done, total) => `${done} of ${total} rows`,
  waitingForWorker: 'waiting for a worker to take it',
  rowsPerSecond: (rate) => `${rate} rows a second`,
  timeLeft: (duration) => `about ${duration} left`,
  cancelling: 'stopping at the next chunk',
  progressOf: (kind) => `${kind}: progress`,
  planCreate: 'To create',
  planUpdate: 'To update',
  planDelete: 'To delete',
  planUnchanged: 'Unchanged',
  planFailed: 'With errors',
  countCreated: 'Created',
  countUpdated: 'Updated',
  countDeleted: 'Deleted',
  countUnchanged: 'Unchanged',
  countFailed: 'Failed',
  countSent: 'Sent',
  countNotSent: 'Not sent',
  countSkipped: 'Skipped',
  countWritten: 'Rows written',
  jobCancelled: 'The job was cancelled: what it did before it stopped stays done.',
  dryRunDone: (created, updated, deleted, failed) =>
    `Dry run finished: ${n(created)} to create, ${n(updated)} to update, ${n(deleted)} to delete, ${n(failed)} with errors. Nothing has changed yet.`,
  importDone: (created, updated, deleted, failed) =>
    `Import finished: ${n(created)} created, ${n(updated)} updated, ${n(deleted)} deleted, ${n(failed)} with errors.`,
  downloadErrors: 'Download errors',
  downloadErrorsHint: (count) =>
    plural$1(
      count,
      'The row with errors as CSV, with an error column: correct it and import that file.',
      `The ${n(count)} rows with errors as CSV, each with an error column: correct them and import that file.`,
    ),
  notCancelled: 'The job was not cancelled:',
  cancelRequested: 'Cancelling: the job stops at its next chunk.',
  noSuchJob: 'There is no such job: the address may be wrong.',
  jobNotShown: 'The job cannot be shown',
  jobStartedBy: (who, when) => `Started by ${who}, ${when}`,
  jobFinishedAt: (when) => `ended ${when}`,
  jobsHeading: 'Jobs',
  jobsCaption: 'Jobs, newest first',
  jobHeading: 'Job',
  backToJobs: '← All jobs',
  colKind: 'Job',
  colProgress: 'Progress',
  colStartedBy: 'Started by',
  colCreated: 'Created',
  colFinished: 'Ended',
  noJobs: 'No jobs.',
  nFailedRows: (count) => plural$1(count, '1 row with errors', `${n(count)} rows with errors`),

  // A dry run's plan and an import's rows with errors
  planNothingChanged: 'This was a dry run: nothing has changed yet. Review the plan below, then apply it.',
  applyPlan: 'Apply this plan',
  applyPlanHint: 'Imports the very file this dry run read, with the same options. Rows with errors are left out.',
  planNotApplied: 'The plan was not applied:',
  planHeading: 'The plan',
  rowErrorsHeading: 'Rows with errors',
  planCaption: 'The plan, row by row',
  errorsCaption: 'Rows with errors',
  filterAction: 'Action',
  filterErrorCode: 'Error code',
  everyPlannedRow: 'Every planned row',
  rowsWithErrors: 'Rows with errors',
  anyError: 'Any error',
  chooseErrorCode: 'Choose a code',
  'planAction:CREATE': 'Create',
  'planAction:UPDATE': 'Update',
  'planAction:DELETE': 'Delete',
  'planAction:NOOP': 'No change',
  colRow: 'Row',
  colPlanAction: 'Action',
  colUser: 'User',
  colFieldsChanged: 'Fields that change',
  colColumn: 'Column',
  colErrorCode: 'Error code',
  colProblem: 'Problem',
  newUserMark: 'New user',
  roleAdded: 'adds',
  roleRemoved: 'removes',
  rowsShown: (from, to) => `Showing ${from} to ${to}.`,
  noRowsHere: 'No rows.',
  rowPages: 'Pages of rows',

  // Import
  importHeading: 'Import users',
  importIntro:
    'Create, update or delete users from a CSV file, in the format an export writes. Any size: the import runs on the server, and this page follows it.',
  readOnlyImport: 'This session is read-only: it cannot import files.',
  csvFile: 'CSV file',
  dropHint: 'Choose the file, or drag it onto this box.',
  sizeKB: (size) => `${size} KB`,
  sizeMB: (size) => `${size} MB`,
  countingRows: 'Counting the rows…',
  aboutRows: (count) => plural$1(count, 'About 1 row.', `About ${n(count)} rows.`),
  noImportMeasured:
    'No import has been measured yet on this installation, so how long it takes is not known: the first import of 1,000 rows or more measures it.',
  importTakes: (duration) => `Importing it takes about ${duration}.`,
  dryRunTakes: (duration) => `A dry run takes about ${duration}.`,
  speedMeasured: (rate, imports) =>
    `(${rate} rows a second, measured on ${plural$1(imports, 'the last import', `the last ${n(imports)} imports`)} here.)`,
  importOptions: 'Options',
  optionMode: 'Rows without an operation',
  'mode:UPSERT': 'Create new users and update existing ones',
  'mode:CREATE': 'Only create users (existing ones are errors)',
  'mode:UPDATE': 'Only update users (unknown ones are errors)',
  optionMatchBy: 'Find existing users by',
  'matchBy:EMAIL': 'E-mail address',
  'matchBy:USERNAME': 'Username',
  'matchBy:EXTERNAL_ID': 'External ID',
  optionRolesMode: 'Roles in the file',
  'rolesMode:MERGE': 'Add to the user’s roles',
  'rolesMode:REPLACE': 'Replace the user’s roles',
  optionExtraColumns: 'Unknown columns',
  'extraColumns:REJECT': 'Refuse the file',
  'extraColumns:ATTRIBUTES': 'Keep them as custom fields',
  optionDelimiter: 'Separator',
  optionEncoding: 'Encoding',
  detect: 'Detect',
  delimiterComma: 'Comma (,)',
  delimiterSemicolon: 'Semicolon (;)',
  delimiterTab: 'Tab',
  optionWelcome: 'Send the welcome e-mail to the users it creates',
  deleteByOperation: 'A row deletes its user only when its operation column says D, and only a disabled user.',
  dryRun: 'Dry run',
  importButton: 'Import',
  dryRunHint: 'A dry run reads and checks every row and shows what it would do, changing nothing; then you can apply it.',
  chooseFile: 'Choose a CSV file first.',
  sendingFile: 'Sending the file…',
  importNotStarted: 'The import did not start:',
  importAnother: 'Import another file',

  // Export
  exportHeading: 'Export users',
  exportIntro:
    'A CSV file in the import’s format: what it holds imports back unchanged. Passwords are never exported.',
  exportOptions: 'Export to CSV…',
  exportWho: 'Users to export',
  scopeSelection: (count) =>
    count === 0
      ? 'The users selected in the list (none is)'
      : plural$1(count, 'The user selected in the list', `The ${n(count)} users selected in the list`),
  scopeSearch: 'Everyone the list’s search and filters find',
  scopeNoSearch: 'The list has no search or filter.',
  scopeAll: 'Everyone in the organisation',
  exportColumnsLegend: 'Columns',
  everyColumn: 'Every column, and one for each custom field',
  chooseColumns: 'Choose the columns',
  csvOperation: 'Operation (written empty)',
  csvWelcome: 'Welcome e-mail (written empty)',
  attributeColumns: 'Custom fields',
  attributeColumnsHint: 'Their names, separated by commas: each becomes an attr:name column.',
  startExport: 'Start export',
  exportQueued: 'Export started.',
  exportGone: 'The file has expired and is no longer kept: start a new export.',
  exportExpires: (when) => `The file is kept until ${when}.`,
  exportColumns: (columns) => `Columns: ${columns}.`,
});

// English. Entries that take numbers or names are functions; `n` formats a number, `list`
// joins names ("A, B and C"). The accessible names tests rely on are the contract's: keep them.

const plural = (count, one, other) => (count === 1 ? one : other);

const EN = ({ n, list }) => ({
  appName: 'Roster',
  skipToContent: 'Skip to main content',
  mainNav: 'Console',
  navUsers: 'Users',
  language: 'Language',
  signOut: 'Sign out',
  readOnly: 'Read only',
  loading: 'Loading…',
  notFound: 'Page not found',
  backToUsers: '← All users',
  cancel: 'Cancel',
  save: 'Save',
  edit: 'Edit',
  yes: 'Yes',
  no: 'No',
  any: 'Any',

  // Sessions
  signingIn: 'Signing in',
  signingInText: 'Checking the sign-in link…',
  signInFailed: 'Could not sign in',
  linkNoLongerWorks: 'This sign-in link no longer works',
  linkUsed: 'It has been used already: each link signs in once.',
  linkExpired: 'It has expired: a link is valid for 15 minutes.',
  linkUnknown: 'It is not a link Roster made, or it has been used or has expired.',
  newLinkHelp:
    'To get a new link, ask an administrator of this Roster installation to run this command, with your organisation’s slug:',
  yourSlug: '<your organisation’s slug>',
  signedOutHeading: 'Signed out',
  signedOutText:
    'You are not signed in to the console: you signed out, or the session ended (it ends after 12 hours without use, after 7 days, or when an administrator revokes it). Open a new sign-in link.',
  sessionEnded: 'The session has ended.',
  forbidden: 'This session is read-only: it cannot change anything.',
  rateLimited: 'Too many requests: wait a moment and try again.',
  networkError: 'Roster could not be reached. Check the connection and try again.',
  readOnlySession: 'This session is read-only: it cannot create users.',

  // Users list
  usersHeading: 'Users',
  usersTableCaption: 'Users, one page',
  newUser: 'New user',
  searchUsers: 'Search users',
  searchPlaceholder: 'Search users by name, username or e-mail',
  status: 'Status',
  statusAll: 'All',
  statusActive: 'Active',
  statusInactive: 'Inactive',
  userActive: 'Active',
  statusDisabled: 'Disabled',
  advancedSearch: 'Advanced search',
  filtersOn: 'filters on',
  nUsers: (count) => (count === 0 ? 'No users' : plural(count, '1 user', `${n(count)} users`)),
  moreThanUsers: (value) => `More than ${value} users`,
  aboutUsers: (value) => `About ${value} users`,
  noUsersMatch: 'No users match.',
  colUsername: 'Username',
  colName: 'Full name',
  colEmail: 'E-mail',
  colStatus: 'Status',
  colRoles: 'Roles',
  colUpdated: 'Last change',
  noRoles: 'No roles',
  selectUser: (username) => `Select ${username}`,
  selectPage: 'Select all on this page',
  nSelected: (count) => (count === 0 ? 'No users selected' : `${n(count)} selected`),
  clearSelection: 'Clear selection',
  pages: 'Pages',
  previousPage: 'Previous page',
  nextPage: 'Next page',

  // Advanced search
  platform: 'Platform',
  anyPlatform: 'Any platform',
  role: 'Role',
  emailDomain: 'E-mail domain',
  filterLanguage: 'Preferred language',
  createdFrom: 'Created from',
  createdTo: 'Created until',
  updatedFrom: 'Changed from',
  updatedTo: 'Changed until',
  welcomeEmailSent: 'Welcome e-mail sent',
  hasPassword: 'Has a password',
  onlySelected: (count) => `Only the selected users (${n(count)})`,
  applyFilters: 'Search',
  clearFilters: 'Clear filters',

  // Actions
  actionsOnSelection: 'Actions on the selected users',
  enable: 'Enable',
  disable: 'Disable',
  sendWelcome: 'Send welcome e-mail',
  export: 'Export',
  delete: 'Delete',
  deleteHint: 'Only disabled users can be deleted.',
  usersEnabled: (count) => plural(count, '1 user enabled', `${n(count)} users enabled`),
  usersDisabled: (count) => plural(count, '1 user disabled', `${n(count)} users disabled`),
  usersDeleted: (count) => plural(count, '1 user deleted', `${n(count)} users deleted`),
  nothingChanged: 'Nothing was changed:',
  nothingDeleted: 'Nothing was deleted:',
  welcomeNotSent: 'No welcome e-mail was sent:',
  welcomeQueued: (count) =>
    plural(count, 'Sending the welcome e-mail to 1 user…', `Sending the welcome e-mail to ${n(count)} users…`),
  welcomeSent: (count) => plural(count, 'Welcome e-mail sent to 1 user.', `Welcome e-mail sent to ${n(count)} users.`),
  welcomePartly: (sent, failed) => `Welcome e-mail sent to ${n(sent)}; ${n(failed)} did not get it.`,
  exportNotStarted: 'The export did not start:',
  exportStarted: (count) => plural(count, 'Exporting 1 user…', `Exporting ${n(count)} users…`),
  exportReady: (count) => plural(count, 'Export ready: 1 user.', `Export ready: ${n(count)} users.`),
  downloadExport: 'Download the CSV file',
  jobFailed: (error) => `The job failed${error ? `: ${error}` : '.'}`,
  deleteTitle: (count) => plural(count, 'Delete 1 user?', `Delete ${n(count)} users?`),
  deleteNUsers: (count) => plural(count, 'Delete 1 user', `Delete ${n(count)} users`),
  deleteIrreversible: (count) =>
    plural(
      count,
      'The user will be deleted for good, with their roles and personal data. This cannot be undone.',
      `${n(count)} users will be deleted for good, with their roles and personal data. This cannot be undone.`,
    ),
  deleteReachesApps: (apps) => `The deletion reaches every app: ${list(apps)}.`,
  deleteReachesEveryApp: 'The deletion reaches every app.',

  // Propagation
  propagationHeading: 'The deletion in each app',
  propagationFirst: (count) => `Showing the first ${count} users deleted.`,
  propagationFollowing: 'Checking every 2 seconds…',
  propagationStopped: 'No longer checking: reload the page to check again.',
  colApp: 'App',
  colDelivery: 'Delivery',
  noWebhook: 'No webhook: this app is not told of changes.',
  deliveryWaiting: 'Waiting',
  deliveryDelivered: 'Delivered',
  deliveryPending: 'Pending',
  deliveryFailed: 'Failed',
  deliveryCounts: (delivered, pending, failed) =>
    `${n(delivered)} delivered, ${n(pending)} pending, ${n(failed)} failed`,
  attempts: (count) => plural(count, '1 attempt.', `${n(count)} attempts.`),
  nextAttempt: (when) => `Next attempt ${when}.`,

  // A user
  userHeading: 'User',
  noSuchUser: 'No such user',
  noSuchUserText: 'There is no user at this address: it may have been deleted.',
  profileHeading: 'Profile',
  fieldUsername: 'Username',
  fieldEmail: 'E-mail',
  fieldFirstName: 'First name',
  fieldLastName: 'Last name',
  fieldLanguage: 'Preferred language',
  fieldTimeZone: 'Time zone',
  fieldOfficePhone: 'Office phone',
  fieldMobilePhone: 'Mobile phone',
  fieldLocation: 'Location',
  fieldExternalId: 'External ID',
  fieldAttributes: 'Custom fields',
  attributesHint: 'One a line: name = value',
  attributesInvalid: 'Write each custom field on a line of its own as name = value.',
  fieldPassword: 'Password',
  rolesLegend: 'Role on each platform',
  noRole: 'No role',
  passwordOptional:
    'Optional: without a password, the user sets one from the welcome e-mail.',
  passwordAcceptable: 'This password is acceptable.',
  sendWelcomeCheckbox: 'Send a welcome e-mail',
  newUserHeading: 'New user',
  fixErrors: (count) => plural(count, 'Correct the field marked below.', `Correct the ${n(count)} problems marked below.`),
  userCreated: (username) => `User ${username} created.`,
  userCreatedWelcome: (username) => `User ${username} created; the welcome e-mail is on its way.`,
  userSaved: 'Changes saved.',
  nothingToSave: 'Nothing changed.',
  changePassword: 'Change the password',
  setPassword: 'Set password',
  passwordSet: 'Password set.',
  passwordNotSet: 'The password was not set:',
  passwordSetAt: 'Password',
  noPassword: 'None',
  welcomeSentAt: 'Welcome e-mail',
  notSent: 'Not sent',
  createdAt: 'Created',
  disabledAt: 'Disabled since',
  userDeleted: (username) => `${username} was deleted.`,

  // Audit
  auditHeading: 'History',
  auditNone: 'No events.',
  colWhen: 'When',
  colAction: 'What',
  colActor: 'By',
  colDetails: 'Details',
  moreEvents: 'Older events',
  auditFields: (fields) => `Fields: ${fields}`,
  auditRolesAdded: (roles) => `Roles granted: ${roles}`,
  auditApps: (apps) => `Apps told: ${apps}`,
  auditRolesRemoved: (roles) => `Roles removed: ${roles}`,
  'action:user.created': 'Created',
  'action:user.updated': 'Profile changed',
  'action:user.roles_changed': 'Roles changed',
  'action:user.password_set': 'Password set',
  'action:user.password_set_failed': 'Password not set',
  'action:user.enabled': 'Enabled',
  'action:user.disabled': 'Disabled',
  'action:user.deleted': 'Deleted',
  'action:user.welcome_email_requested': 'Welcome e-mail requested',
  'action:user.welcome_email_sent': 'Welcome e-mail sent',
  'action:user.welcome_email_failed': 'Welcome e-mail failed',
  ...EN_JOBS({ n}),
  ...EN_APPS(),
});

// The console's languages, and the one the page starts in: the switcher's choice (kept in
// localStorage), else the browser's preferences. No imports: boot.js reads it before the rest of
// the page has loaded, so that a page in Spanish asks for its strings at once.
const STORAGE_KEY = 'roster-console-language';
const LANGUAGES = [
  ['en', 'English'],
  ['es', 'Español'],
];

const isLanguage = (code) => LANGUAGES.some(([known]) => known === code);

function preferredLanguage() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage may be refused (privacy settings): the browser's preference then.
  }
  if (isLanguage(stored)) return stored;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

const START_LANGUAGE = preferredLanguage();

// Every string the console shows, in English and Spanish, and numbers and dates formatted for
// the language (Intl). English is always here (the fallback of a missing string); Spanish is
// loaded when the page starts in it or it is chosen, so that an English page fetches none of it.

const LOADERS = { es: () => import('./i18n-es.js').then((module) => module.ES) };

let current$1 = START_LANGUAGE;
// The last language asked for: a switch whose strings come after a later one's is dropped.
let wanted = current$1;
const listeners$1 = new Set();

function getLanguage() {
  return current$1;
}

/** Switches the language once its strings are here, remembers it, and re-renders whoever listens. */
async function setLanguage(code) {
  if (!isLanguage(code)) return;
  wanted = code;
  try {
    await loadLanguage(code);
  } catch {
    return; // Its strings could not be fetched: the page stays in the language it shows.
  }
  if (code !== wanted || code === current$1) return;
  current$1 = code;
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // Not remembered, but switched.
  }
  document.documentElement.lang = code;
  for (const listener of listeners$1) listener(code);
}

function onLanguageChange(listener) {
  listeners$1.add(listener);
  return () => listeners$1.delete(listener);
}

// Formatters are made once a language: making one costs more than formatting (a list's
// formatter was made for every row's roles: 5 ms of the first list).
const formatters = new Map();

const DATE_TIME = { dateStyle: 'medium', timeStyle: 'short' };
const MAKERS = {
  number: (language) => new Intl.NumberFormat(language),
  date: (language) => new Intl.DateTimeFormat(language, DATE_TIME),
  list: (language) => new Intl.ListFormat(language, { type: 'conjunction' }),
};

function formatter(kind) {
  const key = `${current$1}:${kind}`;
  if (!formatters.has(key)) formatters.set(key, MAKERS[kind](current$1));
  return formatters.get(key);
}

function formatNumber(n) {
  return formatter('number').format(n);
}

function formatDateTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : formatter('date').format(date);
}

const n = formatNumber;
const list = (items) => formatter('list').format(items);

const STRINGS = { en: EN({ n, list }) };

/** Loads the strings of language `code` (at once for English, and once for each other). */
async function loadLanguage(code) {
  if (STRINGS[code] || !LOADERS[code]) return;
  const strings = await LOADERS[code]();
  STRINGS[code] ??= strings({ n, list });
}

/** The string `key` in the current language; a function entry is called with `args`. */
function t(key, ...args) {
  const entry = STRINGS[current$1]?.[key] ?? STRINGS.en[key];
  if (entry === undefined) return key;
  return typeof entry === 'function' ? entry(...args) : entry;
}

/** An audit event's action in words, or as the API names it when there are none for it. */
function actionLabel(action) {
  const entry = STRINGS[current$1]?.[`action:${action}`] ?? STRINGS.en[`action:${action}`];
  return entry ?? action;
}

// The users list's query and the variables of its first page. Its value is JSON as well:
// roster/console.py reads it to preload that page (a GET of /graphql) in the page itself,
// list-state.js imports it for the list's own requests. Keep it plain JSON (double quotes,
// no comments or trailing commas inside it).
var USERS = {
  "query": [
    "query Users($first: Int, $after: String, $last: Int, $before: String,",
    "    $search: String, $filter: UserFilter, $orderBy: UserOrder, $withCount: Boolean!) {",
    "  users(first: $first, after: $after, last: $last, before: $before, search: $search,",
    "      filter: $filter, orderBy: $orderBy) {",
    "    edges { node {",
    "      id username firstName lastName email status updatedAt",
    "      roles { role platform { id name } }",
    "    } }",
    "    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }",
    "    count @include(if: $withCount) { value relation }",
    "  }",
    "}"
  ],
  "firstPage": {"first": 50, "after": null, "search": null, "filter": null, "orderBy": {"field": "USERNAME", "direction": "ASC"}, "withCount": true}
};

// The users list's state in the address bar (search, status, sort, page, advanced filters), so
// that a search can be bookmarked and shared; the API's query for it; and the first page, asked
// for by boot.js before the rest of the console has loaded (so this imports nothing but api.js
// and the query).

const USERS_PATH = '/console/users';

// Advanced filters as the URL spells them; dates are days (YYYY-MM-DD) in the browser's zone.
const TEXT_FILTERS = ['platform', 'role', 'emailDomain', 'language'];
const DAY_FILTERS = ['createdFrom', 'createdTo', 'updatedFrom', 'updatedTo'];
const YES_NO_FILTERS = ['welcomeEmailSent', 'hasPassword'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;
// Ids in the address (each some 60 characters): more would make an address a server refuses.
const MAX_IDS_IN_URL = 100;
const SORTS = {
  username: 'USERNAME',
  email: 'EMAIL',
  firstName: 'FIRST_NAME',
  lastName: 'LAST_NAME',
  createdAt: 'CREATED_AT',
  updatedAt: 'UPDATED_AT',
};

const emptyFilter = () => ({
  platform: '',
  role: '',
  emailDomain: '',
  language: '',
  createdFrom: '',
  createdTo: '',
  updatedFrom: '',
  updatedTo: '',
  welcomeEmailSent: '',
  hasPassword: '',
  ids: [],
});

/** The list's state from a query string; what is not valid is left out. */
function readListState(search) {
  const params = new URLSearchParams(search);
  const filter = emptyFilter();
  for (const name of TEXT_FILTERS) filter[name] = (params.get(name) ?? '').trim();
  for (const name of DAY_FILTERS) {
    const value = params.get(name) ?? '';
    filter[name] = DAY.test(value) ? value : '';
  }
  for (const name of YES_NO_FILTERS) {
    const value = params.get(name);
    filter[name] = value === 'yes' || value === 'no' ? value : '';
  }
  filter.ids = (params.get('ids') ?? '').split(',').filter(Boolean).slice(0, MAX_IDS_IN_URL);
  const status = params.get('status');
  const sort = params.get('sort') ?? '';
  return {
    q: params.get('q') ?? '',
    status: status === 'active' || status === 'disabled' ? status : '',
    sort: sort.replace(/^-/, '') in SORTS ? sort : 'username',
    after: params.get('after'),
    before: params.get('after') ? null : params.get('before'),
    filter,
  };
}

/** The list's address for a state (defaults left out, so that a plain list is /console/users). */
function listUrl(state) {
  const params = new URLSearchParams();
  if (state.q) params.set('q', state.q);
  if (state.status) params.set('status', state.status);
  if (state.sort && state.sort !== 'username') params.set('sort', state.sort);
  for (const [name, value] of Object.entries(state.filter ?? {})) {
    if (name === 'ids') {
      if (value.length) params.set('ids', value.join(','));
    } else if (value) params.set(name, value);
  }
  if (state.after) params.set('after', state.after);
  else if (state.before) params.set('before', state.before);
  const query = params.toString();
  return query ? `${USERS_PATH}?${query}` : USERS_PATH;
}

/** Whether any advanced filter is set. */
function hasAdvancedFilter(filter) {
  return Object.entries(filter).some(([name, value]) => (name === 'ids' ? value.length : value));
}

function startOfDay(day, plusDays = 0) {
  const [year, month, date] = day.split('-').map(Number);
  return new Date(year, month - 1, date + plusDays);
}

/**
 * The API's UserFilter for a state. A day range is inclusive: "from" is after the instant
 * before its midnight, "to" before the next day's midnight (the API's bounds are strict).
 */
function apiFilter(state) {
  const { filter } = state;
  const result = {};
  if (state.status) result.status = state.status === 'active' ? 'ACTIVE' : 'DISABLED';
  for (const name of TEXT_FILTERS) if (filter[name]) result[name] = filter[name];
  const after = (day) => new Date(startOfDay(day).getTime() - 1).toISOString();
  const before = (day) => startOfDay(day, 1).toISOString();
  if (filter.createdFrom) result.createdAfter = after(filter.createdFrom);
  if (filter.createdTo) result.createdBefore = before(filter.createdTo);
  if (filter.updatedFrom) result.updatedAfter = after(filter.updatedFrom);
  if (filter.updatedTo) result.updatedBefore = before(filter.updatedTo);
  for (const name of YES_NO_FILTERS) if (filter[name]) result[name] = filter[name] === 'yes';
  if (filter.ids.length) result.ids = filter.ids;
  return Object.keys(result).length ? result : null;
}

/** The API's UserOrder for a sort key ("updatedAt", or "-updatedAt" for descending). */
function apiOrder(sort) {
  const descending = sort.startsWith('-');
  return { field: SORTS[sort.replace(/^-/, '')], direction: descending ? 'DESC' : 'ASC' };
}

const PAGE_SIZE = 50;
const USERS_QUERY = USERS.query.join('\n');

/** The API's variables for the list in `state` (readListState's). */
function variablesOf(state, withCount) {
  const page = state.before
    ? { last: PAGE_SIZE, before: state.before }
    : { first: PAGE_SIZE, after: state.after };
  return {
    ...page,
    search: state.q.trim() || null,
    filter: apiFilter(state),
    orderBy: apiOrder(state.sort),
    withCount,
  };
}

// The next list the screen shows, asked for before the screen has rendered it: the first page
// (by boot.js, while the rest of the page loads), or a search (as soon as its typing delay
// ends). {key, promise, controller, users}, users once the answer has come.
let prefetched = null;

/** Starts loading the list the address `search` shows; the screen takes it when it shows it. */
function prefetchUsers(search) {
  const variables = variablesOf(readListState(search), true);
  prefetch(variables, (signal) => gql(USERS_QUERY, variables, { signal }));
}

/**
 * Takes the first page the page's <link rel="preload"> asked for (`link`: its address, a GET
 * of the list's query with USERS.firstPage, which the server read from the same file).
 */
function prefetchPreloaded(link) {
  prefetch(USERS.firstPage, (signal) => gqlAt(link, { signal }));
}

function prefetch(variables, ask) {
  prefetched?.controller.abort();
  const controller = new AbortController();
  const promise = ask(controller.signal);
  const entry = { key: JSON.stringify(variables), promise, controller, users: null };
  // A failure is the screen's to show, if it ever takes this answer.
  promise.then(
    (data) => {
      entry.users = data.users;
    },
    () => {},
  );
  prefetched = entry;
}

/**
 * The list asked for ahead ({promise of the query's data, controller}) if it was asked with
 * `variables`, else null. Taken either way: a prefetch is for the next list shown, never a later one.
 */
function takePrefetched(variables) {
  const taken = prefetched;
  prefetched = null;
  if (taken?.key === JSON.stringify(variables)) return taken;
  taken?.controller.abort();
  return null;
}

/** The prefetched page (the query's `users`) if it was asked with `variables` and has come. */
function takeArrived(variables) {
  return prefetched?.users ? (takePrefetched(variables)?.users ?? null) : null;
}

// The page's first module, run as soon as it and its few imports arrive, before the rest of the
// console has been fetched and compiled: it asks for the session and, on the users list, for
// the first page at once, so that both answers travel while the other modules load (with an
// empty cache the first list waited for every file before it asked: bench/console.py), and
// for the strings of a language other than English. The page preloads the session and the
// plain list's first page (roster/console.py): then this takes the answers the browser already
// asked for.

const SIGN_IN_PATH = '/console/sign-in';

/** The path the page was opened at, without a trailing slash. */
const startPath = location.pathname.replace(/\/+$/, '') || '/';

/** The session (null when not signed in or the server was unreachable); null on the sign-in page. */
const sessionAnswer = startPath === SIGN_IN_PATH ? null : currentSession().catch(() => null);

// On the plain list (the bare /console shows it too) the page itself asked for the first page,
// with a preload the server wrote into it: that request left while the page was read.
const firstPage = document.getElementById('first-page');
if (firstPage) prefetchPreloaded(firstPage.href);
else if (startPath === USERS_PATH) prefetchUsers(location.search);
else if (startPath === '/console') prefetchUsers('');

// Its strings, at once (English is one of the page's own).
loadLanguage(START_LANGUAGE).catch(() => {});

// History-API routing: the server answers index.html for every /console path, so the address
// bar is the state of the page (bookmarkable, and Back works).

const listeners = new Set();

function current() {
  return { path: location.pathname, search: location.search };
}

function changed() {
  const now = current();
  for (const listener of listeners) listener(now);
}

addEventListener('popstate', changed);

/** Goes to `url` (same origin); `replace` leaves no history entry (typing in a search box). */
function navigate(url, { replace = false } = {}) {
  const target = new URL(url, location.href);
  if (target.pathname + target.search === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  changed();
}

/** {path, search} of the address bar, re-rendering the caller when it changes. */
function useLocation() {
  const [where, setWhere] = G(current);
  J(() => {
    listeners.add(setWhere);
    // The address may have changed between the first render and this effect.
    setWhere(current());
    return () => listeners.delete(setWhere);
  }, []);
  return where;
}

function plainClick(event) {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

/** An <a> that navigates without reloading the page; modified clicks keep the browser's way. */
function Link({ href, children, ...rest }) {
  const onClick = (event) => {
    if (!plainClick(event)) return;
    event.preventDefault();
    navigate(href);
  };
  return fe`<a href=${href} onClick=${onClick} ...${rest}>${children}</a>`;
}

// The screens beyond the users list (a user, New user, Import, Jobs, Export, Apps, Audit log):
// their addresses, and each one's module loaded when first opened, or in the background once
// the console has started. The users list, where most visits start, waits for none of them
// (bench/console.py: with an empty cache, the first list's time went to fetching every file).

const IMPORT_PATH = '/console/import';
const JOBS_PATH = '/console/jobs';
const APPS_PATH = '/console/apps';
const AUDIT_PATH = '/console/audit';
const EXPORT_PATH = '/console/export';
const NEW_USER_PATH = '/console/users/new';
const USER_PATH = /^\/console\/users\/([^/]+)$/;
const JOB_PATH = /^\/console\/jobs\/([^/]+)$/;
const APP_PATH = /^\/console\/apps\/([^/]+)$/;

const SCREENS = {
  user: () => import('./user.js'),
  newUser: () => import('./new-user.js'),
  import: () => import('./import.js'),
  jobs: () => import('./jobs.js'),
  export: () => import('./export.js'),
  apps: () => import('./apps.js'),
  platform: () => import('./platform.js'),
  audit: () => import('./audit-log.js'),
};
const loadingScreens = new Map();
const loadedScreens = new Map();

function loadScreen(name) {
  if (!loadingScreens.has(name)) {
    const promise = SCREENS[name]().then((module) => {
      loadedScreens.set(name, module);
      return module;
    });
    loadingScreens.set(name, promise);
    // A failed load may be tried again on the next visit.
    promise.catch(() => loadingScreens.delete(name));
  }
  return loadingScreens.get(name);
}

/** Loads every screen's module, and the subscription client, when the page has nothing else to do. */
function preloadScreens() {
  const later = globalThis.requestIdleCallback ?? ((run) => setTimeout(run));
  const loadAll = () => {
    Object.keys(SCREENS).forEach((name) => loadScreen(name).catch(() => {}));
    preloadSubscriptions();
  };
  setTimeout(() => later(loadAll), 1000);
}

/**
 * Screen `component` of module `name`, once loaded. Until then a heading stands in for the
 * screen's; focus on it moves to the screen's own heading.
 */
function Lazy({ name, component, ...props }) {
  const [module, setModule] = G(() => loadedScreens.get(name) ?? null);
  const [failed, setFailed] = G(false);
  const placeholder = Q(null);
  const refocus = Q(false);
  J(() => {
    if (module) return undefined;
    let current = true;
    loadScreen(name)
      .then((loaded) => {
        if (!current) return;
        refocus.current = document.activeElement === placeholder.current;
        setModule(loaded);
      })
      .catch(() => current && setFailed(true));
    return () => {
      current = false;
    };
  }, [name]);
  J(() => {
    if (module && refocus.current) {
      refocus.current = false;
      document.querySelector('main h1')?.focus();
    }
  }, [module]);
  if (failed) return fe`<h1 tabindex="-1">${t('loadFailed')}</h1><p role="alert">${t('networkError')}</p>`;
  if (!module) return fe`<h1 tabindex="-1" ref=${placeholder}>${t('loading')}</h1>`;
  const Screen = module[component];
  return fe`<${Screen} ...${props} />`;
}

/** The screen at `path` beyond the users list: [module, component, props], or null. */
function lazyRoute(path, search) {
  if (path === NEW_USER_PATH) return ['newUser', 'NewUserScreen', {}];
  const user = USER_PATH.exec(path);
  if (user) return ['user', 'UserScreen', { id: decodeURIComponent(user[1]) }];
  if (path === IMPORT_PATH) return ['import', 'ImportScreen', { search }];
  if (path === JOBS_PATH) return ['jobs', 'JobsScreen', { search }];
  if (path === EXPORT_PATH) return ['export', 'ExportScreen', { search }];
  if (path === APPS_PATH) return ['apps', 'AppsScreen', {}];
  if (path === AUDIT_PATH) return ['audit', 'AuditScreen', { search }];
  const job = JOB_PATH.exec(path);
  if (job) return ['jobs', 'JobScreen', { id: decodeURIComponent(job[1]) }];
  const app = APP_PATH.exec(path);
  if (app) return ['platform', 'PlatformScreen', { id: decodeURIComponent(app[1]) }];
  return null;
}

// Small pieces every screen uses: the live regions for results and errors, labelled fields that
// carry their userError, and the mapping of the API's errors to what the page says.

/**
 * The two live regions of a screen, always in the page (a region added with its text is often
 * not announced): `notice` is {kind: 'status'|'alert', text, extra} or null.
 */
function Notices({ notice }) {
  const status = notice?.kind === 'status' ? notice : null;
  const alert = notice?.kind === 'alert' ? notice : null;
  return fe`
    <div class="notices">
      <div role="status" class=${status ? 'notice notice-status' : 'notice-empty'}>
        ${status && fe`<p>${status.text}</p>${status.extra}`}
      </div>
      <div role="alert" class=${alert ? 'notice notice-alert' : 'notice-empty'}>
        ${alert && fe`<p>${alert.text}</p>${alert.extra}`}
      </div>
    </div>
  `;
}

const statusNotice = (text, extra = null) => ({ kind: 'status', text, extra });
const alertNotice = (text, extra = null) => ({ kind: 'alert', text, extra });

/** Whether `error` is a fetch aborted on purpose (a newer search replaced it). */
function isAbort(error) {
  return error?.name === 'AbortError';
}

/** What the page says about an error a request threw. */
function errorText(error) {
  if (error instanceof SessionEnded) return t('sessionEnded');
  if (error instanceof ApiError) {
    if (error.code === 'FORBIDDEN') return t('forbidden');
    if (error.code === 'RATE_LIMITED') return t('rateLimited');
    return error.message;
  }
  if (error instanceof TypeError) return t('networkError');
  return String(error?.message ?? error);
}

/** The userErrors that name no field the form shows, as a list under the alert. */
function UserErrorList({ errors }) {
  if (!errors?.length) return null;
  return fe`<ul>${errors.map((e) => fe`<li>${e.message}</li>`)}</ul>`;
}

/**
 * userErrors by the form field they name: the path after "input" joined with dots ("email",
 * "roles.0.role"); `rename` maps such a key to the form's own (a role's index to its
 * platform). Those naming no field of `known` go to `other`.
 */
function errorsByField(userErrors, known, rename = (key) => key) {
  const byField = {};
  const other = [];
  for (const error of userErrors) {
    const path = error.field ?? [];
    const key = rename((path[0] === 'input' ? path.slice(1) : path).join('.'));
    if (known.has(key) && !(key in byField)) byField[key] = error.message;
    else other.push(error);
  }
  return { byField, other };
}

let fieldCount = 0;

/** A stable id for a component's elements. */
function useId(prefix) {
  const id = Q(null);
  if (id.current === null) {
    fieldCount += 1;
    id.current = `${prefix}-${fieldCount}`;
  }
  return id.current;
}

/**
 * A labelled input with its error beside it: aria-invalid and aria-describedby name the
 * error (and the hint) so a screen reader reads them with the field.
 */
function Field({ label, value, onInput, error, hint, type = 'text', inputRef, ...rest }) {
  const id = useId('field');
  const described = [error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(' ');
  return fe`
    <div class=${error ? 'field field-invalid' : 'field'}>
      <label for=${id}>${label}</label>
      <input
        id=${id}
        type=${type}
        value=${value}
        onInput=${(event) => onInput(event.currentTarget.value)}
        aria-invalid=${error ? 'true' : undefined}
        aria-describedby=${described || undefined}
        ref=${inputRef}
        ...${rest}
      />
      ${hint && fe`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
      ${error && fe`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
    </div>
  `;
}

/** A labelled <select> of `options` ([value, text] pairs), with its error beside it. */
function SelectField({ label, value, onChange, options, error, ...rest }) {
  const id = useId('select');
  return fe`
    <div class=${error ? 'field field-invalid' : 'field'}>
      <label for=${id}>${label}</label>
      <select
        id=${id}
        value=${value}
        onChange=${(event) => onChange(event.currentTarget.value)}
        aria-invalid=${error ? 'true' : undefined}
        aria-describedby=${error ? `${id}-error` : undefined}
        ...${rest}
      >
        ${options.map(([v, text]) => fe`<option value=${v} selected=${v === value}>${text}</option>`)}
      </select>
      ${error && fe`<p class="field-error" id=${`${id}-error`}>${error}</p>`}
    </div>
  `;
}

/** Calls `effect` `delay` ms after `value` last changed (a search box, a password verdict). */
function useDebounced(value, delay, effect) {
  const latest = Q(effect);
  latest.current = effect;
  J(() => {
    const timer = setTimeout(() => latest.current(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
}

/** Sets the document's title for a screen. */
function useTitle(text) {
  J(() => {
    document.title = `${text} · ${t('appName')}`;
  }, [text]);
}

// A result to show on the next screen ("User created" on the new user's page).
let flash = null;

function setFlash(notice) {
  flash = notice;
}

/** The result left for this screen, once. */
function takeFlash() {
  const notice = flash;
  flash = null;
  return notice;
}

/** Moves focus to the form's first invalid field after a render that marked them. */
function focusFirstInvalid(form) {
  form?.querySelector('[aria-invalid="true"]')?.focus();
}

/**
 * A button that, when it cannot be used, says so (aria-disabled) instead of leaving the tab
 * order: focus is not lost when an action disables the button that ran it, and a keyboard
 * user finds every action, usable or not.
 */
function Button({ disabled, onClick, type = 'button', children, ...rest }) {
  const click = (event) => {
    if (disabled) event.preventDefault();
    else onClick?.(event);
  };
  return fe`<button type=${type} aria-disabled=${disabled ? 'true' : undefined} onClick=${click} ...${rest}>
    ${children}
  </button>`;
}

// Signing in from a one-time link, and the pages for a link that no longer works and for a
// session that has ended: each says how to get a new link.

const SIGNED_OUT_PATH = '/console/signed-out';

/**
 * The secret of a sign-in link, taken from the address bar at once: the address bar (and so
 * the history, and a screenshot) never keeps it longer than the page takes to start.
 */
function takeSignInSecret() {
  const secret = location.hash.slice(1);
  history.replaceState(null, '', SIGN_IN_PATH);
  return secret;
}

function NewLinkHelp() {
  return fe`
    <p>${t('newLinkHelp')}</p>
    <pre><code>roster console-link --tenant ${t('yourSlug')}</code></pre>
  `;
}

const LINK_PROBLEMS = {
  LINK_USED: 'linkUsed',
  LINK_EXPIRED: 'linkExpired',
  LINK_UNKNOWN: 'linkUnknown',
};

/** Trades `secret` for a session; on success the console opens on the users list. */
function SignInScreen({ secret }) {
  const [problem, setProblem] = G(secret ? null : 'LINK_UNKNOWN');
  const started = Q(false);
  useTitle(problem ? t('linkNoLongerWorks') : t('signingIn'));
  J(() => {
    if (started.current || !secret) return;
    started.current = true;
    signIn(secret)
      .then(({ session, error }) => {
        if (session) location.replace('/console/users');
        else setProblem(error);
      })
      .catch(() => setProblem('NETWORK'));
  }, [secret]);

  if (!problem) {
    return fe`<h1 tabindex="-1">${t('signingIn')}</h1><p aria-live="polite">${t('signingInText')}</p>`;
  }
  if (problem === 'NETWORK') {
    return fe`<h1 tabindex="-1">${t('signInFailed')}</h1><p role="alert">${t('networkError')}</p>`;
  }
  return fe`
    <h1 tabindex="-1">${t('linkNoLongerWorks')}</h1>
    <p>${t(LINK_PROBLEMS[problem] ?? 'linkUnknown')}</p>
    <${NewLinkHelp} />
  `;
}

/** Shown when not signed in: after Sign out, or when the session was revoked or expired. */
function SignedOutScreen() {
  useTitle(t('signedOutHeading'));
  return fe`
    <h1 tabindex="-1">${t('signedOutHeading')}</h1>
    <p>${t('signedOutText')}</p>
    <${NewLinkHelp} />
  `;
}

// The confirmation dialog: a modal <dialog> (the browser makes the rest of the page inert and
// closes it on Escape), focus on the harmless choice first and back on the opener after.

let dialogCount = 0;

/**
 * Asks before an irreversible action. Shown while `open`; `onConfirm` and `onCancel` are the
 * two answers (Escape is Cancel). `busy` disables the buttons while the action runs.
 */
function ConfirmDialog({ open, title, children, confirmLabel, onConfirm, onCancel, busy }) {
  const dialog = Q(null);
  const cancel = Q(null);
  const opener = Q(null);
  const ids = Q(null);
  if (ids.current === null) {
    dialogCount += 1;
    ids.current = { title: `dialog-title-${dialogCount}`, body: `dialog-body-${dialogCount}` };
  }

  J(() => {
    const element = dialog.current;
    if (open && !element.open) {
      opener.current = document.activeElement;
      element.showModal();
      cancel.current.focus();
    } else if (!open && element.open) {
      element.close();
    }
  }, [open]);

  J(() => {
    const element = dialog.current;
    const restore = () => {
      const back = opener.current;
      opener.current = null;
      // The opener may be gone (the row deleted) or disabled now: then the page's heading.
      if (back?.isConnected && !back.disabled) back.focus();
      else document.querySelector('main h1')?.focus();
    };
    element.addEventListener('close', restore);
    return () => {
      element.removeEventListener('close', restore);
      // Gone while open (the page it belonged to went with what it deleted): focus would be
      // left on nothing, so the new page's heading takes it once rendered.
      if (element.open) setTimeout(() => document.activeElement === document.body && restore());
    };
  }, []);

  const onDialogCancel = (event) => {
    // Escape: the dialog closes only when the page says so, so that its state stays the truth.
    event.preventDefault();
    if (!busy) onCancel();
  };

  return fe`
    <dialog
      ref=${dialog}
      class="dialog"
      aria-labelledby=${ids.current.title}
      aria-describedby=${ids.current.body}
      onCancel=${onDialogCancel}
    >
      <h2 id=${ids.current.title}>${title}</h2>
      <div id=${ids.current.body}>${children}</div>
      <div class="dialog-buttons">
        <button type="button" class="danger" onClick=${onConfirm} disabled=${busy}>
          ${confirmLabel}
        </button>
        <button type="button" ref=${cancel} onClick=${onCancel} disabled=${busy}>
          ${t('cancel')}
        </button>
      </div>
    </dialog>
  `;
}

/** The text of the delete confirmation: the count, irreversible, every app. */
function DeleteConfirmation({ count, apps }) {
  return fe`
    <p>${t('deleteIrreversible', count)}</p>
    <p>${apps.length ? t('deleteReachesApps', apps) : t('deleteReachesEveryApp')}</p>
  `;
}

// Download links the API gives (an export's file, an import's error report) as the page uses
// them: on its own origin, and downloaded without leaving the page.

/**
 * The API's link (made on PUBLIC_URL) on the page's own origin, the same server: a browser
 * downloads a cross-origin link only by navigating to it, and the console may be open under
 * another name of the host than PUBLIC_URL's.
 */
function sameOrigin(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

/** Starts the browser's download of `url` (the link stays on the page as well). */
function download(url) {
  const link = document.createElement('a');
  link.href = url;
  link.download = '';
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}

// The actions on a selection of users (the seed's "More" menu, as plain buttons): Enable,
// Disable, Send welcome e-mail, Export, Delete. The list and the user page both use them.

const SET_STATUS = {
  enable: `mutation Enable($ids: [ID!]!) {
    enableUsers(ids: $ids) { users { id status } userErrors { field message code } }
  }`,
  disable: `mutation Disable($ids: [ID!]!) {
    disableUsers(ids: $ids) { users { id status } userErrors { field message code } }
  }`,
};
const DELETE = `mutation Delete($ids: [ID!]!) {
  deleteUsers(ids: $ids) { deletedIds userErrors { field message code } }
}`;
const WELCOME = `mutation Welcome($ids: [ID!]!) {
  sendWelcomeEmail(ids: $ids) { job { id } userErrors { field message code } }
}`;
const EXPORT = `mutation Export($ids: [ID!]!) {
  startExport(ids: $ids) { job { id } userErrors { field message code } }
}`;

function userErrorsNotice(summary, errors) {
  return alertNotice(summary, fe`<${UserErrorList} errors=${errors} />`);
}

/**
 * The action buttons for `users` ({id, username, status}, all known). `onChanged(change)` after
 * an action changed users: {kind: 'status', users} or {kind: 'deleted', ids}. `notify(notice)`
 * shows the result. A read session (`canChange` false) gets Export only.
 */
function SelectionActions({ users, canChange, platforms, notify, onChanged, exportable = true }) {
  const [busy, setBusy] = G(false);
  const [confirming, setConfirming] = G(false);
  // The jobs being followed, stopped when the page goes.
  const following = Q(new Set());
  J(() => () => following.current.forEach((c) => c.abort()), []);

  const count = users.length;
  const ids = users.map((u) => u.id);
  const none = count === 0;
  const allActive = !none && users.every((u) => u.status === 'ACTIVE');
  const allDisabled = !none && users.every((u) => u.status === 'DISABLED');

  const run = async (action) => {
    setBusy(true);
    try {
      await action();
    } catch (error) {
      if (!isAbort(error)) notify(alertNotice(errorText(error)));
    } finally {
      setBusy(false);
    }
  };

  const setStatus = (which) =>
    run(async () => {
      const data = await gql(SET_STATUS[which], { ids });
      const payload = which === 'enable' ? data.enableUsers : data.disableUsers;
      if (payload.userErrors.length) {
        notify(userErrorsNotice(t('nothingChanged'), payload.userErrors));
        return;
      }
      notify(statusNotice(which === 'enable' ? t('usersEnabled', count) : t('usersDisabled', count)));
      onChanged({ kind: 'status', users: payload.users });
    });

  // A job is followed after the buttons are free again: an export may take a while, and a
  // queue without a worker would hold them for ever.
  const track = (jobId, done) => {
    const controller = new AbortController();
    following.current.add(controller);
    followJob(jobId, () => {}, { signal: controller.signal })
      .then(done)
      .catch((error) => {
        if (!isAbort(error)) notify(alertNotice(errorText(error)));
      })
      .finally(() => following.current.delete(controller));
  };

  const sendWelcome = () =>
    run(async () => {
      const { sendWelcomeEmail: payload } = await gql(WELCOME, { ids });
      if (payload.userErrors.length) {
        notify(userErrorsNotice(t('welcomeNotSent'), payload.userErrors));
        return;
      }
      notify(statusNotice(t('welcomeQueued', count)));
      track(payload.job.id, (job) => {
        if (job.status === 'SUCCEEDED' && !job.failed) notify(statusNotice(t('welcomeSent', job.sent)));
        else if (job.status === 'SUCCEEDED') notify(alertNotice(t('welcomePartly', job.sent, job.failed)));
        else notify(alertNotice(t('jobFailed', job.error)));
      });
    });

  const startExport = () =>
    run(async () => {
      const { startExport: payload } = await gql(EXPORT, { ids });
      if (payload.userErrors.length) {
        notify(userErrorsNotice(t('exportNotStarted'), payload.userErrors));
        return;
      }
      notify(statusNotice(t('exportStarted', count)));
      track(payload.job.id, (job) => {
        if (job.status !== 'SUCCEEDED' || !job.downloadUrl) {
          notify(alertNotice(t('jobFailed', job.error)));
          return;
        }
        const url = sameOrigin(job.downloadUrl);
        const link = fe`<p><a href=${url} download="">${t('downloadExport')}</a></p>`;
        notify(statusNotice(t('exportReady', job.rowCount), link));
        download(url);
      });
    });

  const confirmDelete = () =>
    run(async () => {
      const { deleteUsers: payload } = await gql(DELETE, { ids });
      setConfirming(false);
      if (payload.userErrors.length) {
        notify(userErrorsNotice(t('nothingDeleted'), payload.userErrors));
        return;
      }
      notify(statusNotice(t('usersDeleted', payload.deletedIds.length)));
      onChanged({ kind: 'deleted', ids: payload.deletedIds });
    });

  const apps = platforms.map((p) => p.name);
  return fe`
    <div class="actions" role="group" aria-label=${t('actionsOnSelection')}>
      ${canChange &&
      fe`
        <${Button} onClick=${() => setStatus('enable')} disabled=${none || allActive || busy}>
          ${t('enable')}
        <//>
        <${Button} onClick=${() => setStatus('disable')} disabled=${none || allDisabled || busy}>
          ${t('disable')}
        <//>
        <${Button} onClick=${sendWelcome} disabled=${!allActive || busy}>${t('sendWelcome')}<//>
      `}
      ${exportable &&
      fe`<${Button} onClick=${startExport} disabled=${none || busy}>${t('export')}<//>`}
      ${canChange &&
      fe`
        <${Button}
          class="danger"
          onClick=${() => setConfirming(true)}
          disabled=${!allDisabled || busy}
          aria-describedby="delete-hint"
        >
          ${t('delete')}
        <//>
        <span id="delete-hint" class="hint">${t('deleteHint')}</span>
      `}
    </div>
    ${canChange &&
    fe`
      <${ConfirmDialog}
        open=${confirming}
        title=${t('deleteTitle', count)}
        confirmLabel=${t('deleteNUsers', count)}
        onConfirm=${confirmDelete}
        onCancel=${() => setConfirming(false)}
        busy=${busy}
      >
        <${DeleteConfirmation} count=${count} apps=${apps} />
      <//>
    `}
  `;
}

// The users list's way to the Export screen: the list's search and filters go in the address,
// and the selection with them (in the address when it is short, else handed over in memory).

let handedOver = [];

/** The Export screen's address for the list at `listSearch` with `ids` selected. */
function exportUrl(listSearch, ids) {
  const params = new URLSearchParams(listSearch);
  params.delete('after');
  params.delete('before');
  if (ids.length && ids.length <= MAX_IDS_IN_URL) params.set('selected', ids.join(','));
  const query = params.toString();
  return query ? `${EXPORT_PATH}?${query}` : EXPORT_PATH;
}

/** The selection the Export screen at `search` exports: from its address, or handed over. */
function selectedIds(search) {
  const inUrl = new URLSearchParams(search).get('selected');
  return inUrl ? inUrl.split(',').filter(Boolean) : handedOver;
}

/** "Export to CSV…": the Export screen for the list at `search` with `ids` selected. */
function ExportLink({ search, ids }) {
  J(() => {
    handedOver = ids.length > MAX_IDS_IN_URL ? ids : [];
  });
  return fe`<${Link} class="button" href=${exportUrl(search, ids)}>${t('exportOptions')}<//>`;
}

// How a deletion reaches each app: the `user.deleted` webhook deliveries of the deleted users,
// per platform (delivered, pending, failed), polled every 2 seconds for a while.

const POLL_MS = 2000;
// Long enough for a few retries of a slow app; the page says when it stops looking.
const FOLLOW_MS = 120000;
// Users followed at once: one query of aliases (the API allows 30 a document).
const FOLLOWED = 25;
const EVENT = 'user.deleted';

function deliveriesQuery(count) {
  const variables = Array.from({ length: count }, (_, i) => `$u${i}: ID!`).join(', ');
  const fields = Array.from(
    { length: count },
    (_, i) => `u${i}: webhookDeliveries(userId: $u${i}, first: 10) {
      edges { node { eventType status attempts lastError deliveredAt nextAttemptAt platform { id } } }
    }`,
  ).join('\n');
  return `query Propagation(${variables}) { ${fields} }`;
}

/** The deletion deliveries by platform id, from one answer of deliveriesQuery. */
function byPlatform(data) {
  const result = new Map();
  for (const connection of Object.values(data)) {
    for (const { node } of connection.edges) {
      if (node.eventType !== EVENT) continue;
      const list = result.get(node.platform.id) ?? [];
      list.push(node);
      result.set(node.platform.id, list);
    }
  }
  return result;
}

function counts(deliveries) {
  const c = { SUCCEEDED: 0, PENDING: 0, FAILED: 0 };
  for (const d of deliveries) c[d.status] += 1;
  return c;
}

function OneDelivery({ delivery }) {
  if (!delivery) return fe`<span class="badge badge-pending">${t('deliveryWaiting')}</span>`;
  if (delivery.status === 'SUCCEEDED') {
    return fe`<span class="badge badge-active">${t('deliveryDelivered')}</span>
      <span class="muted"> ${formatDateTime(delivery.deliveredAt)}</span>`;
  }
  if (delivery.status === 'PENDING') {
    const tried = delivery.attempts ? `${t('attempts', delivery.attempts)} ${delivery.lastError ?? ''}` : '';
    const next = delivery.nextAttemptAt ? t('nextAttempt', formatDateTime(delivery.nextAttemptAt)) : '';
    return fe`<span class="badge badge-pending">${t('deliveryPending')}</span>
      <span class="muted"> ${tried} ${next}</span>`;
  }
  return fe`<span class="badge badge-failed">${t('deliveryFailed')}</span>
    <span class="muted"> ${delivery.lastError ?? ''}</span>`;
}

function Summary({ deliveries, expected }) {
  const c = counts(deliveries);
  const waiting = Math.max(0, expected - deliveries.length);
  return fe`${t('deliveryCounts', c.SUCCEEDED, c.PENDING + waiting, c.FAILED)}`;
}

/**
 * The propagation of the deletion of `ids` (the first FOLLOWED of them) to each platform of
 * `platforms` ({id, name, webhookUrl}).
 */
function Propagation({ ids, platforms }) {
  const followed = ids.slice(0, FOLLOWED);
  const key = followed.join(',');
  const [found, setFound] = G(null);
  const [following, setFollowing] = G(true);
  const [error, setError] = G(null);
  const connected = platforms.filter((p) => p.webhookUrl);

  J(() => {
    const controller = new AbortController();
    const until = Date.now() + FOLLOW_MS;
    const variables = Object.fromEntries(followed.map((id, i) => [`u${i}`, id]));
    const query = deliveriesQuery(followed.length);
    let timer = null;
    setFollowing(true);
    const poll = async () => {
      let done = false;
      try {
        const result = byPlatform(await gql(query, variables, { signal: controller.signal }));
        setFound(result);
        setError(null);
        const all = [...result.values()].flat();
        done =
          connected.every((p) => (result.get(p.id) ?? []).length >= followed.length) &&
          all.every((d) => d.status !== 'PENDING');
      } catch (e) {
        if (isAbort(e)) return;
        setError(errorText(e));
      }
      if (done || Date.now() > until) setFollowing(false);
      else timer = setTimeout(poll, POLL_MS);
    };
    poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [key]);

  const single = followed.length === 1;
  return fe`
    <section class="propagation" aria-labelledby="propagation-heading">
      <h2 id="propagation-heading">${t('propagationHeading')}</h2>
      ${ids.length > FOLLOWED && fe`<p>${t('propagationFirst', formatNumber(FOLLOWED))}</p>`}
      ${error && fe`<p role="alert">${error}</p>`}
      <table class="plain">
        <thead>
          <tr><th scope="col">${t('colApp')}</th><th scope="col">${t('colDelivery')}</th></tr>
        </thead>
        <tbody>
          ${platforms.map((p) => {
            const deliveries = found?.get(p.id) ?? [];
            let cell;
            if (!p.webhookUrl) cell = fe`<span class="muted">${t('noWebhook')}</span>`;
            else if (single) cell = fe`<${OneDelivery} delivery=${deliveries[0]} />`;
            else cell = fe`<${Summary} deliveries=${deliveries} expected=${followed.length} />`;
            return fe`<tr key=${p.id}><th scope="row">${p.name}</th><td>${cell}</td></tr>`;
          })}
        </tbody>
      </table>
      <p class="muted" aria-live="polite">${following ? t('propagationFollowing') : t('propagationStopped')}</p>
    </section>
  `;
}

// The advanced search form, which edits the list's filters (kept in the address: list-state.js).

const yesNoOptions = () => [
  ['', t('any')],
  ['yes', t('yes')],
  ['no', t('no')],
];

/**
 * The advanced search form: every UserFilter field but status (the list's own control).
 * `onApply(filter)` with the new filter; `selectedIds` offers "only the selected users".
 */
function AdvancedSearch({ id, filter, platforms, selectedIds, onApply, onClear }) {
  const [draft, setDraft] = G(filter);
  J(() => setDraft(filter), [filter]);
  const set = (name) => (value) => setDraft((old) => ({ ...old, [name]: value }));
  const roleListId = useId('roles');
  const chosen = platforms.find((p) => p.key === draft.platform);
  const roles = [...new Set((chosen ? [chosen] : platforms).flatMap((p) => p.roles))].sort();
  const onlySelected = draft.ids.length > 0;
  const toggleOnlySelected = (event) =>
    setDraft((old) => ({ ...old, ids: event.currentTarget.checked ? selectedIds : [] }));
  const submit = (event) => {
    event.preventDefault();
    onApply(draft);
  };
  return fe`
    <section id=${id} class="advanced" aria-labelledby=${`${id}-heading`}>
      <h2 id=${`${id}-heading`}>${t('advancedSearch')}</h2>
      <form onSubmit=${submit} class="advanced-form">
        <${SelectField}
          label=${t('platform')}
          value=${draft.platform}
          onChange=${set('platform')}
          options=${[['', t('anyPlatform')], ...platforms.map((p) => [p.key, p.name])]}
        />
        <${Field} label=${t('role')} value=${draft.role} onInput=${set('role')} list=${roleListId} />
        <datalist id=${roleListId}>${roles.map((r) => fe`<option value=${r} />`)}</datalist>
        <${Field}
          label=${t('emailDomain')}
          value=${draft.emailDomain}
          onInput=${set('emailDomain')}
          placeholder="example.org"
        />
        <${Field}
          label=${t('filterLanguage')}
          value=${draft.language}
          onInput=${set('language')}
          placeholder="es"
        />
        <${Field} label=${t('createdFrom')} type="date" value=${draft.createdFrom} onInput=${set('createdFrom')} />
        <${Field} label=${t('createdTo')} type="date" value=${draft.createdTo} onInput=${set('createdTo')} />
        <${Field} label=${t('updatedFrom')} type="date" value=${draft.updatedFrom} onInput=${set('updatedFrom')} />
        <${Field} label=${t('updatedTo')} type="date" value=${draft.updatedTo} onInput=${set('updatedTo')} />
        <${SelectField}
          label=${t('welcomeEmailSent')}
          value=${draft.welcomeEmailSent}
          onChange=${set('welcomeEmailSent')}
          options=${yesNoOptions()}
        />
        <${SelectField}
          label=${t('hasPassword')}
          value=${draft.hasPassword}
          onChange=${set('hasPassword')}
          options=${yesNoOptions()}
        />
        <div class="field field-check">
          <input
            type="checkbox"
            id=${`${id}-only-selected`}
            checked=${onlySelected}
            disabled=${!onlySelected && (!selectedIds.length || selectedIds.length > MAX_IDS_IN_URL)}
            onChange=${toggleOnlySelected}
          />
          <label for=${`${id}-only-selected`}>
            ${t('onlySelected', onlySelected ? draft.ids.length : selectedIds.length)}
          </label>
        </div>
        <div class="form-buttons">
          <button type="submit" class="primary">${t('applyFilters')}</button>
          <button type="button" onClick=${onClear}>${t('clearFilters')}</button>
        </div>
      </form>
    </section>
  `;
}

// The users table: one page's rows (never more: a million users are paged, not rendered), the
// sort buttons in the headers and a checkbox per row and for the page.

const SORTABLE = [
  ['username', 'colUsername'],
  ['firstName', 'colName'],
  ['email', 'colEmail'],
];

function SortHeader({ field, label, sort, onSort }) {
  const active = sort.replace(/^-/, '') === field;
  const descending = active && sort.startsWith('-');
  const ariaSort = active ? (descending ? 'descending' : 'ascending') : undefined;
  const next = active && !descending ? `-${field}` : field;
  return fe`
    <th scope="col" aria-sort=${ariaSort}>
      <button type="button" class="sort" onClick=${() => onSort(next)}>
        ${label}
        <span class="sort-mark" aria-hidden="true">${active ? (descending ? '▼' : '▲') : '↕'}</span>
      </button>
    </th>
  `;
}

function PageCheckbox({ rows, selection, onSelectPage }) {
  const box = Q(null);
  const chosen = rows.filter((row) => selection.has(row.id)).length;
  const all = rows.length > 0 && chosen === rows.length;
  J(() => {
    box.current.indeterminate = chosen > 0 && !all;
  });
  return fe`
    <input
      ref=${box}
      type="checkbox"
      aria-label=${t('selectPage')}
      checked=${all}
      disabled=${rows.length === 0}
      onChange=${(event) => onSelectPage(event.currentTarget.checked)}
    />
  `;
}

function RolesList({ roles }) {
  if (!roles.length) return fe`<span class="muted">${t('noRoles')}</span>`;
  return fe`
    <ul class="roles">
      ${roles.map((r) => fe`<li key=${`${r.platform.id}:${r.role}`}>${r.platform.name}: ${r.role}</li>`)}
    </ul>
  `;
}

function StatusBadge({ status }) {
  const active = status === 'ACTIVE';
  return fe`<span class=${active ? 'badge badge-active' : 'badge badge-disabled'}>
    ${active ? t('userActive') : t('statusDisabled')}
  </span>`;
}

function Row({ user, selected, onSelect }) {
  return fe`
    <tr class=${selected ? 'selected' : ''}>
      <td class="check">
        <input
          type="checkbox"
          aria-label=${t('selectUser', user.username)}
          checked=${selected}
          onChange=${(event) => onSelect(user, event.currentTarget.checked)}
        />
      </td>
      <td>
        <${Link} href=${`/console/users/${encodeURIComponent(user.id)}`}>${user.username}<//>
      </td>
      <td>${user.firstName} ${user.lastName}</td>
      <td class="email">${user.email}</td>
      <td><${StatusBadge} status=${user.status} /></td>
      <td><${RolesList} roles=${user.roles} /></td>
      <td class="date">${formatDateTime(user.updatedAt)}</td>
    </tr>
  `;
}

/** The table of `rows`; `selection` is a Map of id to user. */
function UserTable({ rows, loading, sort, onSort, selection, onSelect, onSelectPage }) {
  return fe`
    <div class="table-wrap">
      <table class="users" aria-busy=${loading ? 'true' : 'false'}>
        <caption class="visually-hidden">${t('usersTableCaption')}</caption>
        <thead>
          <tr>
            <th scope="col" class="check">
              <${PageCheckbox} rows=${rows} selection=${selection} onSelectPage=${onSelectPage} />
            </th>
            ${SORTABLE.map(
              ([field, key]) =>
                fe`<${SortHeader} key=${field} field=${field} label=${t(key)} sort=${sort} onSort=${onSort} />`,
            )}
            <th scope="col">${t('colStatus')}</th>
            <th scope="col">${t('colRoles')}</th>
            <${SortHeader} field="updatedAt" label=${t('colUpdated')} sort=${sort} onSort=${onSort} />
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (user) =>
              fe`<${Row} key=${user.id} user=${user} selected=${selection.has(user.id)} onSelect=${onSelect} />`,
          )}
          ${!loading &&
          rows.length === 0 &&
          fe`<tr><td colspan="7" class="empty">${t('noUsersMatch')}</td></tr>`}
        </tbody>
      </table>
    </div>
  `;
}

// The Users screen: search, status, advanced filters, sort and page, all in the address bar;
// one page of rows at a time; a selection kept across pages and the actions on it.

// Short: a search answers in tens of milliseconds at a million users, and each keystroke's
// request aborts the one before (measured in bench/console.py: 200 ms made a search's rows come
// 300-350 ms after the last key).
const SEARCH_DELAY_MS = 100;
// The API takes at most 1,000 users an action.
const MAX_SELECTION = 1000;

function countText(count) {
  if (!count) return '';
  if (count.relation === 'GTE') return t('moreThanUsers', formatNumber(count.value));
  if (count.relation === 'ESTIMATE') return t('aboutUsers', formatNumber(count.value));
  return t('nUsers', count.value);
}

const STATUS_CHOICES = [
  ['', 'statusAll'],
  ['active', 'statusActive'],
  ['disabled', 'statusInactive'],
];

function StatusFilter({ value, onChange }) {
  return fe`
    <fieldset class="segmented">
      <legend>${t('status')}</legend>
      ${STATUS_CHOICES.map(
        ([choice, key]) => fe`
          <label key=${choice}>
            <input
              type="radio"
              name="status"
              value=${choice}
              checked=${value === choice}
              onChange=${() => onChange(choice)}
            />
            <span>${t(key)}</span>
          </label>
        `,
      )}
    </fieldset>
  `;
}

function SearchBox({ q, onSearch }) {
  const [text, setText] = G(q);
  const input = Q(null);
  // Back and Forward change the search: show it, unless the person is typing in the box.
  J(() => {
    if (document.activeElement !== input.current) setText(q);
  }, [q]);
  // The timer starts from the keystroke itself, not from an effect that would wait for the
  // next painted frame first.
  const timer = Q(null);
  J(() => () => clearTimeout(timer.current), []);
  const type = (value) => {
    setText(value);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => onSearch(value.trim()), SEARCH_DELAY_MS);
  };
  const submit = (event) => {
    event.preventDefault();
    clearTimeout(timer.current);
    onSearch(text.trim());
  };
  return fe`
    <form role="search" class="search" onSubmit=${submit}>
      <label for="user-search" class="visually-hidden">${t('searchUsers')}</label>
      <input
        id="user-search"
        ref=${input}
        type="search"
        value=${text}
        placeholder=${t('searchPlaceholder')}
        maxlength="256"
        autocomplete="off"
        onInput=${(event) => type(event.currentTarget.value)}
      />
    </form>
  `;
}

const pageOf = (users) => ({ rows: users.edges.map((e) => e.node), pageInfo: users.pageInfo });
// A search's count is asked for again when this changes, not when the page does.
const countKeyOf = (state, reloads) => JSON.stringify([state.q, state.status, state.filter, reloads]);

function UsersScreen({ search, session, platforms }) {
  const state = Y(() => readListState(search), [search]);
  // The first page, when the answer boot.js asked for came before this screen: shown in the
  // screen's first render, with no render of an empty table before it.
  const [first] = G(() => takeArrived(variablesOf(state, true)));
  const [page, setPage] = G(() => (first ? pageOf(first) : { rows: [], pageInfo: null }));
  const [count, setCount] = G(() => first?.count ?? null);
  const [loading, setLoading] = G(first === null);
  const [loadError, setLoadError] = G(null);
  const [reloads, setReloads] = G(0);
  const [selection, setSelection] = G(() => new Map());
  const [notice, setNotice] = G(null);
  const [deleted, setDeleted] = G([]);
  const [advancedOpen, setAdvancedOpen] = G(() => hasAdvancedFilter(state.filter));
  const countKey = Q(first ? countKeyOf(state, 0) : null);
  const shownFirst = Q(first !== null);
  const canChange = session.scope === 'admin';
  useTitle(t('usersHeading'));

  // A layout effect: the request leaves as soon as the address changed, not a painted frame
  // later, as a plain effect would.
  K(() => {
    if (shownFirst.current) {
      shownFirst.current = false;
      return undefined;
    }
    const key = countKeyOf(state, reloads);
    const withCount = key !== countKey.current;
    setLoading(true);
    const variables = variablesOf(state, withCount);
    const prefetched = takePrefetched(variables);
    // A new search aborts the one under way: its rows would come too late to be shown.
    const controller = prefetched?.controller ?? new AbortController();
    const answer = prefetched?.promise ?? gql(USERS_QUERY, variables, { signal: controller.signal });
    answer
      .then(({ users }) => {
        if (controller.signal.aborted) return;
        const shown = pageOf(users);
        setPage(shown);
        if (withCount) {
          countKey.current = key;
          setCount(users.count);
        }
        // What the page shows of a selected user is the truth: its status may have changed.
        setSelection((old) => {
          if (!shown.rows.some((row) => old.has(row.id))) return old;
          const next = new Map(old);
          for (const row of shown.rows) if (next.has(row.id)) next.set(row.id, row);
          return next;
        });
        setLoadError(null);
        setLoading(false);
      })
      .catch((error) => {
        if (isAbort(error)) return;
        setLoadError(errorText(error));
        setLoading(false);
      });
    return () => controller.abort();
  }, [state, reloads]);

  const go = (changes, options) => navigate(listUrl({ ...state, after: null, before: null, ...changes }), options);
  const onSearch = (q) => {
    if (q === state.q) return;
    const url = listUrl({ ...state, after: null, before: null, q });
    // Asked for now, not once the screen has rendered the new address: a render sooner.
    prefetchUsers(new URL(url, location.href).search);
    navigate(url, { replace: true });
  };

  const select = (user, on) =>
    setSelection((old) => {
      const next = new Map(old);
      if (on && next.size < MAX_SELECTION) next.set(user.id, user);
      else if (!on) next.delete(user.id);
      return next;
    });
  const selectPage = (on) =>
    setSelection((old) => {
      const next = new Map(old);
      for (const row of page.rows) {
        if (!on) next.delete(row.id);
        else if (next.size < MAX_SELECTION) next.set(row.id, row);
      }
      return next;
    });

  const onChanged = (change) => {
    if (change.kind === 'deleted') {
      setSelection((old) => {
        const next = new Map(old);
        for (const id of change.ids) next.delete(id);
        return next;
      });
      setDeleted(change.ids);
    } else {
      setSelection((old) => {
        const next = new Map(old);
        for (const u of change.users) if (next.has(u.id)) next.set(u.id, { ...next.get(u.id), ...u });
        return next;
      });
    }
    setReloads((n) => n + 1);
  };

  const selected = [...selection.values()];
  const { pageInfo } = page;
  const advancedActive = hasAdvancedFilter(state.filter);
  return fe`
    <div class="screen-head">
      <h1 tabindex="-1">${t('usersHeading')}</h1>
      ${canChange &&
      fe`<button type="button" class="primary" onClick=${() => navigate('/console/users/new')}>
        ${t('newUser')}
      </button>`}
    </div>
    <div class="list-controls">
      <${SearchBox} q=${state.q} onSearch=${onSearch} />
      <${StatusFilter} value=${state.status} onChange=${(status) => go({ status })} />
      <button
        type="button"
        aria-expanded=${advancedOpen ? 'true' : 'false'}
        aria-controls="advanced-search"
        onClick=${() => setAdvancedOpen(!advancedOpen)}
      >
        ${t('advancedSearch')}${advancedActive ? ` (${t('filtersOn')})` : ''}
      </button>
      <${ExportLink} search=${search} ids=${selected.map((u) => u.id)} />
    </div>
    ${advancedOpen &&
    fe`<${AdvancedSearch}
      id="advanced-search"
      filter=${state.filter}
      platforms=${platforms}
      selectedIds=${selected.map((u) => u.id)}
      onApply=${(filter) => go({ filter })}
      onClear=${() => go({ filter: emptyFilter() })}
    />`}
    <p class="count" aria-live="polite">${loadError ? '' : countText(count)}</p>
    <div class="selection-bar">
      <span aria-live="polite">${t('nSelected', selected.length)}</span>
      ${selected.length > 0 &&
      fe`<button type="button" class="link" onClick=${() => setSelection(new Map())}>${t('clearSelection')}</button>`}
      <${SelectionActions}
        users=${selected}
        canChange=${canChange}
        platforms=${platforms}
        notify=${setNotice}
        onChanged=${onChanged}
      />
    </div>
    <${Notices} notice=${loadError ? alertNotice(loadError) : notice} />
    ${deleted.length > 0 && fe`<${Propagation} ids=${deleted} platforms=${platforms} />`}
    <${UserTable}
      rows=${page.rows}
      loading=${loading}
      sort=${state.sort}
      onSort=${(sort) => go({ sort })}
      selection=${selection}
      onSelect=${select}
      onSelectPage=${selectPage}
    />
    <nav class="pager" aria-label=${t('pages')}>
      <${Button}
        disabled=${!pageInfo?.hasPreviousPage}
        onClick=${() => navigate(listUrl({ ...state, after: null, before: pageInfo.startCursor }))}
      >
        ${t('previousPage')}
      <//>
      <${Button}
        disabled=${!pageInfo?.hasNextPage}
        onClick=${() => navigate(listUrl({ ...state, before: null, after: pageInfo.endCursor }))}
      >
        ${t('nextPage')}
      <//>
    </nav>
  `;
}

export { SelectField as $, APPS_PATH as A, preloadScreens as B, focusFirstInvalid as C, statusNotice as D, EXPORT_PATH as E, errorsByField as F, G, UserErrorList as H, IMPORT_PATH as I, J, isAbort as K, Lazy as L, M, Notices as N, SelectionActions as O, Propagation as P, Q, StatusBadge as R, SIGN_IN_PATH as S, RolesList as T, USERS_PATH as U, Button as V, formatDateTime as W, takeFlash as X, setFlash as Y, useId as Z, Field as _, sessionAnswer as a, useDebounced as a0, formatNumber as a1, Y as a2, gqlUpload as a3, readListState as a4, selectedIds as a5, listUrl as a6, hasAdvancedFilter as a7, apiOrder as a8, apiFilter as a9, followJob as aa, sameOrigin as ab, ConfirmDialog as ac, actionLabel as ad, SIGNED_OUT_PATH as b, t as c, alertNotice as d, signOut as e, fe as f, getLanguage as g, SignInScreen as h, SignedOutScreen as i, UsersScreen as j, lazyRoute as k, loadLanguage as l, setLanguage as m, navigate as n, LANGUAGES as o, JOBS_PATH as p, AUDIT_PATH as q, Link as r, startPath as s, takeSignInSecret as t, useLocation as u, useTitle as v, onSessionEnded as w, onLanguageChange as x, gql as y, errorText as z };
