(function(){
var table=document.getElementById('links'),tbody=table.tBodies[0],rows=Array.prototype.slice.call(tbody.rows);
var q=document.getElementById('q'),fc=document.getElementById('fcat'),fr=document.getElementById('frep'),shown=document.getElementById('shown');
document.getElementById('total').textContent=rows.length;
var texts=null;
function apply(){
  if(!texts){texts=rows.map(function(r){return r.textContent.toLowerCase()})}
  var needle=q.value.toLowerCase(),cat=fc.value,rep=fr.value,n=0;
  for(var i=0;i<rows.length;i++){var r=rows[i];
    var ok=(!cat||r.getAttribute('data-category')===cat)&&(!rep||r.getAttribute('data-repair')===rep)&&(!needle||texts[i].indexOf(needle)>=0);
    r.hidden=!ok;if(ok)n++}
  shown.textContent=n;
}
shown.textContent=rows.length;
q.addEventListener('input',apply);fc.addEventListener('change',apply);fr.addEventListener('change',apply);
var heads=table.tHead.rows[0].cells;
// Each heading is a button: a click or Enter/Space sorts by it, ascending then descending; numbers as numbers.
Array.prototype.forEach.call(heads,function(th,i){th.querySelector('button').addEventListener('click',function(){
  var asc=th.getAttribute('aria-sort')!=='ascending';
  Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort')});
  th.setAttribute('aria-sort',asc?'ascending':'descending');
  function key(r){var c=r.cells[i];var s=c.getAttribute('data-sort');return s!==null?s:c.textContent.trim().toLowerCase()}
  var numeric=th.getAttribute('data-type')==='number';
  var order=rows.map(function(r,j){return [key(r),j]});
  order.sort(function(a,b){var x=a[0],y=b[0],d;
    if(numeric){x=x===''?-Infinity:+x;y=y===''?-Infinity:+y;d=x<y?-1:x>y?1:0}else{d=x<y?-1:x>y?1:0}
    return (asc?d:-d)||a[1]-b[1]});
  var frag=document.createDocumentFragment(),next=[],oldTexts=texts;
  order.forEach(function(p){frag.appendChild(rows[p[1]]);next.push(rows[p[1]])});
  if(oldTexts){texts=order.map(function(p){return oldTexts[p[1]]})}
  rows=next;tbody.appendChild(frag);
})});
})();
