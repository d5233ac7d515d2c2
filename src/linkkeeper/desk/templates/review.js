(function(){
var token=document.querySelector('meta[name="csrf-token"]').content;
var queue=document.getElementById('queue'),flashEl=document.getElementById('flash');
var $=function(id){return document.getElementById(id)};
var selKey=null,selIndex=0,loaded={},picked={},order=[],pendingConfirm=null;
function all(){return Array.prototype.slice.call(queue.querySelectorAll('li.item'))}
function shown(){return all().filter(function(el){return !el.hidden})}
function byKey(key){return queue.querySelector('li.item[data-key="'+(window.CSS&&CSS.escape?CSS.escape(key):key)+'"]')}
function current(){var it=selKey&&byKey(selKey);return it&&!it.hidden?it:null}
function flash(msg,err){flashEl.textContent=msg;flashEl.className=err?'err':'ok'}
function post(path,body){
  return fetch(path,{method:'POST',credentials:'same-origin',headers:{'Content-Type':'application/json','X-CSRF-Token':token},
    body:JSON.stringify(body)}).then(function(r){return r.json().catch(function(){return {error:r.statusText}}).then(function(d){
      if(!r.ok){var e=new Error(d.error||r.statusText);e.data=d;throw e}return d})});
}
// --- selection (the one item the keys act on) ---------------------------------------------------------
function select(it){
  var list=shown();
  if(!it){selKey=null;list.forEach(function(el){el.classList.remove('selected')});return}
  selKey=it.dataset.key;selIndex=Math.max(0,list.indexOf(it));
  all().forEach(function(el){var on=el===it;el.classList.toggle('selected',on);el.setAttribute('aria-selected',on?'true':'false')});
  it.scrollIntoView({block:'nearest'});loadCompare(it);
}
function move(delta){var list=shown();if(!list.length)return;var i=list.indexOf(current());select(list[Math.max(0,Math.min(i<0?0:i+delta,list.length-1))])}
function loadCompare(it){
  if(!it.dataset.replacement||!it.dataset.id)return;
  var key=it.dataset.id+' '+it.dataset.replacement;if(loaded[key]===it)return;loaded[key]=it;
  var box=it.querySelector('.capture-text');box.innerHTML='<span class="muted">loading the capture…</span>';
  fetch('/compare/'+encodeURIComponent(it.dataset.id),{credentials:'same-origin',headers:{'X-CSRF-Token':token}}).then(function(r){return r.json()}).then(function(d){
    if(d.post_html){it.querySelector('.post-text').innerHTML=d.post_html}
    box.innerHTML=d.capture_html||(d.error?'':'');if(d.error)box.textContent=d.error;
  }).catch(function(){box.textContent='could not load the capture'});
}
// --- filters, grouping and what is shown --------------------------------------------------------------
var facetSelects=Array.prototype.slice.call(document.querySelectorAll('select[data-facet]'));
function buildFacets(){
  facetSelects.forEach(function(sel){
    var name=sel.dataset.facet,counts={},labels={},keep=sel.value;
    all().forEach(function(el){var v=el.dataset[name];counts[v]=(counts[v]||0)+1;
      if(name==='kind')labels[v]=el.querySelector('.kind').textContent});
    while(sel.options.length>1)sel.remove(1);
    Object.keys(counts).sort(function(a,b){return counts[b]-counts[a]||(a<b?-1:1)}).forEach(function(v){
      var o=document.createElement('option');o.value=v;o.textContent=(labels[v]||v)+' ('+counts[v]+')';sel.appendChild(o)});
    sel.value=counts[keep]?keep:'';
  });
}
function num(id){var v=$(id).value;return v===''?null:parseFloat(v)}
function matches(el){
  var q=$('f-q').value.toLowerCase(),lo=num('f-cmin'),hi=num('f-cmax'),c=el.dataset.confidence;
  for(var i=0;i<facetSelects.length;i++){var s=facetSelects[i];if(s.value&&el.dataset[s.dataset.facet]!==s.value)return false}
  if((lo!==null||hi!==null)&&c==='')return false;
  if(lo!==null&&+c<lo)return false;if(hi!==null&&+c>hi)return false;
  return !q||el.textContent.toLowerCase().indexOf(q)>=0;
}
function applyView(){
  var group=$('f-group').value,items=all(),on=0;
  Array.prototype.slice.call(queue.querySelectorAll('li.group')).forEach(function(g){g.remove()});
  items.forEach(function(el){el.hidden=!matches(el)});
  var rank={};order.forEach(function(k,i){rank[k]=i});
  items.sort(function(a,b){
    if(group){var x=a.dataset[group],y=b.dataset[group];if(a.hidden!==b.hidden)return a.hidden?1:-1;if(x!==y)return x<y?-1:1}
    return rank[a.dataset.key]-rank[b.dataset.key]});
  var frag=document.createDocumentFragment(),last=null,counts={};
  items.forEach(function(el){if(!el.hidden&&group)counts[el.dataset[group]]=(counts[el.dataset[group]]||0)+1});
  items.forEach(function(el){
    if(group&&!el.hidden&&el.dataset[group]!==last){last=el.dataset[group];var li=document.createElement('li');li.className='group';
      var h=document.createElement('h2');h.className='group';h.textContent=(group==='outlet'?'Outlet ':'Host ')+last+' ('+counts[last]+')';
      li.appendChild(h);frag.appendChild(li)}
    frag.appendChild(el)});
  queue.appendChild(frag);
  var n=shown().length;$('shown').textContent=n;
  facetSelects.concat([$('f-q'),$('f-cmin'),$('f-cmax')]).forEach(function(f){if(f.value)on++});
  $('filtered').textContent=on?'('+on+' on: '+n+' of '+items.length+' shown)':'';
  if(!current()){var list=shown();select(list[Math.min(selIndex,list.length-1)]||null)}
  showPicked();
}
['f-q','f-cmin','f-cmax'].forEach(function(id){$(id).addEventListener('input',applyView)});
facetSelects.concat([$('f-group')]).forEach(function(s){s.addEventListener('change',applyView)});
$('f-clear').addEventListener('click',function(){facetSelects.forEach(function(s){s.value=''});
  ['f-q','f-cmin','f-cmax'].forEach(function(id){$(id).value=''});$('f-group').value='';applyView()});
// --- many at once: the selection, bulk approval, and asking once -----------------------------------------
function pickedShown(){return shown().filter(function(el){return picked[el.dataset.key]})}
function showPicked(){
  all().forEach(function(el){var on=!!picked[el.dataset.key];el.classList.toggle('picked',on);el.querySelector('.pick').checked=on});
  var list=pickedShown(),ok=list.filter(function(el){return el.dataset.approvable==='1'}).length;
  $('picked').textContent=list.length?list.length+' selected':'none selected';
  $('pick-approve').disabled=!ok;$('pick-reject').disabled=!ok;
  $('pick-approve').textContent=ok?'Approve '+ok+' selected':'Approve selected';
  $('pick-reject').textContent=ok?'Reject '+ok+' selected':'Reject selected';
  var s=shown();$('pick-all').checked=!!s.length&&list.length===s.length;
}
function pick(el,on){if(on)picked[el.dataset.key]=true;else delete picked[el.dataset.key];showPicked()}
$('pick-all').addEventListener('change',function(ev){shown().forEach(function(el){if(ev.target.checked)picked[el.dataset.key]=true;else delete picked[el.dataset.key]});showPicked()});
function ask(text,yes,fn){pendingConfirm=fn;$('confirm-text').textContent=text;$('confirm-yes').textContent=yes;$('confirm').hidden=false;$('confirm-yes').focus()}
function closeAsk(){pendingConfirm=null;$('confirm').hidden=true}
$('confirm-yes').addEventListener('click',function(){var fn=pendingConfirm;closeAsk();if(fn)fn()});
$('confirm-no').addEventListener('click',closeAsk);
function decidePicked(action){
  var list=pickedShown().filter(function(el){return el.dataset.approvable==='1'}),rest=pickedShown().length-list.length;
  if(!list.length)return;
  var verb=action==='approve'?'Approve':'Reject',n=list.length;
  ask(verb+' '+n+' selected repair'+(n===1?'':'s')+'?'+(rest?' ('+rest+' selected have no replacement to decide.)':''),verb+' '+n,function(){
    var keys=list.map(function(el){return el.dataset.key});
    run('/decide',function(){return {ids:keys,action:action,note:note()}},function(){keys.forEach(function(k){delete picked[k]})});
  });
}
$('pick-approve').addEventListener('click',function(){decidePicked('approve')});
$('pick-reject').addEventListener('click',function(){decidePicked('reject')});
$('bulk').addEventListener('submit',function(ev){
  ev.preventDefault();var t=parseFloat($('threshold').value);
  if(!(t>=0&&t<=1)){flash('The confidence must be between 0 and 1',true);return}
  var s=shown(),list=s.filter(function(el){return el.dataset.approvable==='1'&&+el.dataset.confidence>=t}),n=list.length;
  if(!n){flash('No shown repair has confidence ≥ '+t,true);return}
  ask('Approve '+n+' repair'+(n===1?'':'s')+' with confidence ≥ '+t+' among the '+s.length+' shown?','Approve '+n,function(){
    var keys=list.map(function(el){return el.dataset.key});
    run('/bulk-approve',function(){return {min_confidence:t,ids:keys,expect:n,note:note()}});
  });
});
// --- decisions ------------------------------------------------------------------------------------------
function note(){var v=$('note').value;return v||null}
function localTimes(){Array.prototype.forEach.call(document.querySelectorAll('#recent time'),function(t){
  var d=new Date(t.getAttribute('datetime'));if(!isNaN(d))t.textContent=d.toLocaleString(undefined,{dateStyle:'medium',timeStyle:'short'})})}
function refresh(){
  return fetch('/queue',{credentials:'same-origin'}).then(function(r){return r.json()}).then(function(d){
    var keep=selKey;queue.innerHTML=d.html;$('recent').innerHTML=d.recent;localTimes();
    $('pending').textContent=d.pending;loaded={};order=all().map(function(el){return el.dataset.key});
    Object.keys(picked).forEach(function(k){if(order.indexOf(k)<0)delete picked[k]});
    buildFacets();selKey=keep;applyView();select(current()||shown()[Math.min(selIndex,shown().length-1)]||null);
  });
}
// Requests run one after another, each seeing the queue the previous one left: no keystroke is lost or
// applied to an item that has already gone. The message shows once the queue is up to date.
var chain=Promise.resolve();
function enqueue(fn){chain=chain.then(fn).catch(function(){});return chain}
function done(d){$('note').value='';return refresh().then(function(){flash(d.message,false)})}
function run(path,body,after){return enqueue(function(){var b=body();if(!b)return;
  return post(path,b).then(function(d){if(after)after();return done(d)},function(e){flash(e.message,true)})})}
function act(action){run('/decide',function(){var it=current();return it&&{ids:[it.dataset.key],action:action,note:note()}})}
function later(){run('/later',function(){var it=current();return it&&{key:it.dataset.key}})}
function openEdit(){var it=current();if(!it)return;var f=it.querySelector('form.edit');f.hidden=false;var i=f.querySelector('input[name=replacement]');i.focus();i.select()}
function closeEdit(f){if(f.closest('li.item').dataset.kind==='proposed')f.hidden=true;f.querySelector('.error').textContent='';
  f.querySelector('.result').innerHTML='';f.querySelector('.save').hidden=true;queue.focus()}
function undo(){run('/undo',function(){return {}})}
function showCheck(f,d){
  var ul=f.querySelector('.result');ul.innerHTML='';
  if(d.compare){var it=f.closest('li.item');it.querySelector('.post-text').innerHTML=d.compare.post_html;
    it.querySelector('.capture-text').innerHTML=d.compare.capture_html||'<span class="muted">the page has no text</span>';
    it.querySelector('.compare section:last-child h3').textContent='What the page you gave says'}
  (d.lines||[]).forEach(function(l){var li=document.createElement('li');li.className=l.ok===true?'pass':l.ok===false?'fail':'info';li.textContent=l.text;ul.appendChild(li)});
  var save=f.querySelector('.save'),why=f.querySelector('.anyway');
  f.dataset.checked=d.saveable?f.querySelector('input[name=replacement]').value:'';f.dataset.ok=d.ok?'1':'0';
  save.hidden=!d.saveable;why.hidden=d.ok;
  f.querySelector('[data-save=approve]').textContent=d.ok?'Save and approve':'Save anyway and approve';
  f.querySelector('[data-save=save]').textContent=d.ok?'Save':'Save anyway';
  f.querySelector('.error').textContent=d.ok?'':(d.saveable?'Not saved: '+d.reason+'. To save it anyway, say why.':d.reason||'');
  if(d.ok)f.querySelector('[data-save=approve]').focus();else if(d.saveable)why.querySelector('input').focus();
}
function check(f){
  var it=f.closest('li.item'),value=f.querySelector('input[name=replacement]').value;
  f.querySelector('.error').textContent='';f.querySelector('.save').hidden=true;
  f.querySelector('.result').innerHTML='<li class="info">checking: the archive and the page may take a few seconds…</li>';
  enqueue(function(){return post('/verify',{key:it.dataset.key,replacement:value}).then(function(d){showCheck(f,d)},
    function(e){f.querySelector('.result').innerHTML='';f.querySelector('.error').textContent=e.message;flash(e.message,true)})});
}
function save(f,approve){
  var it=f.closest('li.item'),anyway=f.dataset.ok!=='1',why=f.querySelector('input[name=why]').value.trim();
  if(anyway&&!why){f.querySelector('.error').textContent='Say why you save it although a check failed: the note is kept with the decision.';f.querySelector('input[name=why]').focus();return}
  var body={ids:[it.dataset.key],action:'edit',replacement:f.dataset.checked,approve:approve,note:anyway?why:note(),anyway:anyway};
  enqueue(function(){return post('/decide',body).then(function(d){if(document.activeElement)document.activeElement.blur();return done(d)},
    function(e){if(e.data&&e.data.check)showCheck(f,e.data.check);f.querySelector('.error').textContent=e.message;flash(e.message,true)})});
}
queue.addEventListener('click',function(ev){
  var it=ev.target.closest('li.item');if(!it)return;
  if(it!==current())select(it);
  if(ev.target.classList.contains('pick')){pick(it,ev.target.checked);return}
  var s=ev.target.closest('button[data-save]');if(s){save(s.closest('form'),s.dataset.save==='approve');return}
  // Another page the proposal lists: put in the edit form and checked against the post's text, as if pasted.
  var u=ev.target.closest('button[data-use]');if(u){openEdit();var f=it.querySelector('form.edit');
    f.querySelector('input[name=replacement]').value=u.dataset.use;check(f);return}
  var b=ev.target.closest('button[data-action]');if(!b)return;
  var a=b.dataset.action;
  if(a==='edit')openEdit();else if(a==='cancel')closeEdit(b.closest('form'));else if(a==='later')later();else act(a);
});
queue.addEventListener('input',function(ev){var f=ev.target.closest('form.edit');
  if(f&&ev.target.name==='replacement'&&ev.target.value!==f.dataset.checked){f.querySelector('.save').hidden=true;f.querySelector('.result').innerHTML=''}});
queue.addEventListener('submit',function(ev){ev.preventDefault();check(ev.target)});
$('undo').addEventListener('click',undo);
$('help').addEventListener('click',function(){var k=$('keys');k.hidden=!k.hidden});
document.addEventListener('keydown',function(ev){
  var t=ev.target;
  if(ev.key==='Escape'){if(pendingConfirm){ev.preventDefault();closeAsk();return}
    var f=t.closest&&t.closest('form.edit');if(f){ev.preventDefault();closeEdit(f)}return}
  if(ev.ctrlKey||ev.metaKey||ev.altKey)return;
  if(t.matches&&t.matches('input,textarea,select'))return;
  var k=ev.key,it=current();
  if(k==='j'){move(1)}else if(k==='k'){move(-1)}
  else if(k==='a'){if(it&&it.dataset.approvable==='1')act('approve')}else if(k==='r'){if(it&&it.dataset.approvable==='1')act('reject')}
  else if(k==='n'){if(it&&it.querySelector('[data-action="not-dead"]'))act('not-dead')}
  else if(k==='e'){openEdit()}else if(k==='l'){later()}else if(k==='u'){undo()}
  else if(k==='x'){if(it)pick(it,!picked[it.dataset.key])}
  else if(k==='?'){var h=$('keys');h.hidden=!h.hidden}
  else return;
  ev.preventDefault();
});
if(window.matchMedia&&window.matchMedia('(min-width: 801px)').matches)$('filters').open=true;
order=all().map(function(el){return el.dataset.key});
buildFacets();localTimes();applyView();select(shown()[0]||null);
document.body.setAttribute('data-ready','1');
})();
